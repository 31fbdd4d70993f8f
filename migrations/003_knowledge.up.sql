-- Placeholder reserved for issue 4 (knowledge_documents, risk_detections); replaced by that work before it lands.
SELECT 1;
