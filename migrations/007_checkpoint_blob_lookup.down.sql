-- Restore 002's definition.
CREATE OR REPLACE VIEW checkpoint_tuples AS
SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id, c.type, c.checkpoint,
       c.metadata, b.channels AS blob_channels, b.types AS blob_types, b.blobs,
       w.task_ids AS write_task_ids, w.channels AS write_channels, w.types AS write_types,
       w.blobs AS write_blobs, w.task_paths AS write_task_paths, w.idxs AS write_idxs
FROM checkpoints c
CROSS JOIN LATERAL (
    SELECT array_agg(bl.channel) AS channels, array_agg(bl.type) AS types, array_agg(bl.blob) AS blobs
    FROM unnest(c.blob_channels, c.blob_versions) AS r(channel, version)
    JOIN checkpoint_blobs bl
      ON bl.thread_id = c.thread_id AND bl.checkpoint_ns = c.checkpoint_ns
     AND bl.channel = r.channel AND bl.version = r.version
) AS b
CROSS JOIN LATERAL (
    SELECT array_agg(cw.task_id) AS task_ids, array_agg(cw.channel) AS channels, array_agg(cw.type) AS types,
           array_agg(cw.blob) AS blobs, array_agg(cw.task_path) AS task_paths, array_agg(cw.idx) AS idxs
    FROM checkpoint_writes cw
    WHERE cw.thread_id = c.thread_id AND cw.checkpoint_ns = c.checkpoint_ns AND cw.checkpoint_id = c.checkpoint_id
) AS w;
