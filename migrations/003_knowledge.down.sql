DROP TABLE IF EXISTS risk_detections;
DROP TABLE IF EXISTS knowledge_documents;
