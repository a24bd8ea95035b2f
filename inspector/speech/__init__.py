"""The speech layer: a recording in, a ``Transcript`` out.

Data flows one way: ``audio`` (decode, probe, channels) -> ``vad`` (speech regions) -> ``asr`` (words,
with ``correction`` verifying domain homophones) -> ``diarize`` / ``embeddings`` (who spoke, for mono) ->
``utterances`` (words grouped per speaker) -> ``overlap`` (mono: where both talk at once, found by the
``segmentation`` model) -> ``roles`` (坐席 or 客户). ``pipeline.SpeechPipeline`` wires
the stages; ``transcript`` holds the result types, ``timeline`` the time-span type, ``lexicon`` the
domain vocabulary and ``weights`` the offline whisper model folder. Nothing here knows about rules,
storage or the service."""
