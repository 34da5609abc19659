"""Imports every domain's tables so that Alembic and the tests see one metadata."""

from kefu.banking import models as banking_models  # noqa: F401
from kefu.channels import models as channel_models  # noqa: F401
from kefu.chat import models as chat_models  # noqa: F401
from kefu.complaints import models as complaint_models  # noqa: F401
from kefu.contacts import models as contact_models  # noqa: F401
from kefu.core import audit, calendar, events  # noqa: F401
from kefu.core.db import Base
from kefu.customers import models as customer_models  # noqa: F401
from kefu.knowledge import models as knowledge_models  # noqa: F401
from kefu.mail import models as mail_models  # noqa: F401
from kefu.routing import models as routing_models  # noqa: F401
from kefu.scripts import models as script_models  # noqa: F401
from kefu.staff import models as staff_models  # noqa: F401

metadata = Base.metadata
