"""The Agent Protocol's I/O: threads and runs over conversations and runs (`service`), thread
states from the checkpointer (`reader`), and a run's stream rebuilt from durable rows (`stream`)."""
