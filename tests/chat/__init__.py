"""Online chat: bot first, hand-over through the digital routing engine, agents with several chats."""
