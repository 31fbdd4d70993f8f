"""The lifecycle of a person's data: what expires is deleted (`cleanup`, run on a schedule by
`scheduler`, with the other retention purges of `retention`); a whole account is exported,
imported (`transfer`) and erased (`erase`).

These modules compose statements that live with the tables' owners (db.conversations,
db.documents, db.checkpoint.sql, ...): they decide what goes and in which transaction, the owners
say how.
"""
