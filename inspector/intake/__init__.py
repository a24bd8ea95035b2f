"""Intake: recordings from the PBX into the service. ``metadata`` is what a PBX says about a call,
``filenames`` reads it from recording file names, ``cdr`` from the PBX's CDR export, ``scan`` walks a
folder into an import plan; ``ingest`` registers the plan's recordings (audio store, calls, queue).
"""
