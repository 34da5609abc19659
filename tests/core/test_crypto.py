"""Field encryption, blind index and masking (convention 8)."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core import crypto
from kefu.core.config import new_key_b64

KEY1 = "1:" + base64.b64encode(b"\x01" * 32).decode()


@pytest.fixture(autouse=True)
def _keyring():
    previous = crypto._keyring
    crypto.configure(KEY1)
    yield
    if previous is not None:
        crypto._keyring, crypto._index_key = previous, previous.index_key()


digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
mobiles = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)
id_numbers = st.builds(
    lambda body, last: body + last,
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.sampled_from("0123456789X"),
)
cards = st.text(alphabet="0123456789", min_size=16, max_size=19)
chinese_names = st.text(alphabet="王李张刘陈杨明伟芳娜秀英欧阳司马", min_size=2, max_size=5)


@given(value=st.text(max_size=200), context=st.sampled_from(["staff.phone", "staff.email", "x.y"]))
@settings(max_examples=60, deadline=None)
def test_encrypt_decrypt_round_trip(value, context):
    token = crypto.encrypt(value, context=context)
    assert token.startswith("v1:")
    assert crypto.decrypt(token, context=context) == value


def test_ciphertexts_are_randomised():
    a = crypto.encrypt("13800138000", context="staff.phone")
    b = crypto.encrypt("13800138000", context="staff.phone")
    assert a != b
    assert crypto.decrypt(a, context="staff.phone") == crypto.decrypt(b, context="staff.phone")


def test_tampered_ciphertext_is_refused():
    token = crypto.encrypt("110101199003077777", context="staff.id_number")
    head, b64 = token.split(":", 1)
    raw = bytearray(base64.b64decode(b64))
    for pos in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        changed = bytearray(raw)
        changed[pos] ^= 0x01
        bad = head + ":" + base64.b64encode(bytes(changed)).decode()
        with pytest.raises(crypto.CryptoError, match="altered or moved"):
            crypto.decrypt(bad, context="staff.id_number")
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt("v1:not-base64!!", context="staff.id_number")
    with pytest.raises(crypto.CryptoError, match="unknown key version"):
        crypto.decrypt("v9:" + b64, context="staff.id_number")


def test_ciphertext_moved_to_another_column_is_refused():
    token = crypto.encrypt("13800138000", context="staff.phone")
    with pytest.raises(crypto.CryptoError, match="altered or moved"):
        crypto.decrypt(token, context="staff.email")


def test_keyring_versions_and_errors():
    ring = f"{KEY1},2:{new_key_b64()}"
    old = crypto.encrypt("旧值", context="c")
    crypto.configure(ring)
    new = crypto.encrypt("新值", context="c")
    assert new.startswith("v2:")
    assert crypto.decrypt(old, context="c") == "旧值"
    assert crypto.key_version_of(new) == 2
    with pytest.raises(crypto.CryptoError, match="32 bytes"):
        crypto.KeyRing.parse("1:" + base64.b64encode(b"short").decode())
    with pytest.raises(crypto.CryptoError):
        crypto.KeyRing.parse("")
    assert crypto.KeyRing.parse(base64.b64encode(b"\x02" * 32).decode()).current_version == 1


# ---- blind index ------------------------------------------------------------------------------


@given(phone=mobiles)
@settings(max_examples=50, deadline=None)
def test_blind_index_is_stable_and_normalised(phone):
    ctx = "staff.phone"
    idx = crypto.blind_index(phone, context=ctx)
    assert re.fullmatch(r"[0-9a-f]{64}", idx)
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    dashed = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    for form in (phone, "+86" + phone, "+86 " + spaced, "0086" + phone, dashed, f" {phone} "):
        assert crypto.blind_index(form, context=ctx) == idx, form
    assert phone not in idx
    assert crypto.blind_index(phone, context="staff.id_number") != idx  # bound to its column


def test_blind_index_upper_cases_id_numbers_and_survives_new_key_versions():
    a = crypto.blind_index("11010119900307777x", context="staff.id_number")
    assert a == crypto.blind_index("11010119900307777X", context="staff.id_number")
    crypto.configure(f"{KEY1},2:{new_key_b64()}")
    assert crypto.blind_index("11010119900307777X", context="staff.id_number") == a
    crypto.configure("1:" + new_key_b64())
    assert crypto.blind_index("11010119900307777X", context="staff.id_number") != a  # keyed


# ---- masking -----------------------------------------------------------------------------------


def test_masking_examples():
    assert crypto.mask_name("张三明") == "张*明"
    assert crypto.mask_name("欧阳娜娜") == "欧**娜"
    assert crypto.mask_name("张三") == "张*"
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_phone("+86 138-1234-5678") == "138****5678"
    assert crypto.mask_id_number("110101199003077777") == "110" + "*" * 11 + "7777"
    assert crypto.mask_card("6222021234567890123") == "622202" + "*" * 9 + "0123"
    assert crypto.mask_card("6222 0212 3456 7890") == "622202******7890"
    assert crypto.mask_amount(12345.67) == "****"
    assert crypto.mask_email("zhang.san@bank.example") == "z***@bank.example"
    for fn in (crypto.mask_name, crypto.mask_phone, crypto.mask_id_number, crypto.mask_card, crypto.mask_email):
        assert fn(None) == ""
        assert fn("") == ""


@given(name=chinese_names)
def test_mask_name_property(name):
    m = crypto.mask_name(name)
    assert len(m) == len(name)
    assert m[0] == name[0]
    if len(name) >= 3:
        assert m[-1] == name[-1]
        assert set(m[1:-1]) == {"*"}
    else:
        assert m[1:] == "*"


@given(phone=mobiles)
def test_mask_phone_property(phone):
    m = crypto.mask_phone(phone)
    assert m == phone[:3] + "****" + phone[-4:]


@given(value=id_numbers)
def test_mask_id_number_property(value):
    m = crypto.mask_id_number(value)
    assert len(m) == 18
    assert m[:3] == value[:3]
    assert m[-4:] == value[-4:]
    assert m[3:-4] == "*" * 11


@given(value=cards)
def test_mask_card_property(value):
    m = crypto.mask_card(value)
    assert len(m) == len(value)
    assert m[:6] == value[:6]
    assert m[-4:] == value[-4:]
    assert set(m[6:-4]) == {"*"}


@given(amount=st.one_of(st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False)))
def test_mask_amount_hides_everything(amount):
    assert crypto.mask_amount(amount) == "****"


# ---- the log scrubber's patterns ----------------------------------------------------------------


@given(phone=mobiles, id_number=id_numbers, card=cards)
@settings(max_examples=60, deadline=None)
def test_scrub_text_masks_phone_id_and_card(phone, id_number, card):
    line = f"客户 {phone} 证件{id_number} 卡号:{card} 来电 +86 {phone}"
    out = crypto.scrub_text(line)
    assert phone not in out
    assert id_number not in out
    assert card not in out
    assert phone[-4:] in out  # masked, not deleted
