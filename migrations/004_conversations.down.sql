DROP TABLE IF EXISTS conversation_messages;
DROP TABLE IF EXISTS conversations;
