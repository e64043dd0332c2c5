"""Serialisation, apart from the model: canonical forms, document mappings, JSON forms,
and the loaders of programme documents (programmes, catalogues, campaigns, complaints),
which share one problem collector (:mod:`~loyaltykit.formats.problems`) and one reader
of instants, money and durations (:mod:`~loyaltykit.formats.scalars`)."""
