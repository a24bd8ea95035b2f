"""Personal data (个人信息) in calls: found, masked, revealed on request, and kept only as long as allowed.

Layer: above ``store`` (it reads transcripts and the audio store), below ``intake`` and everything that
serves calls to people.

- ``detection``: mobile and landline numbers, ID numbers (checksum), bank cards (Luhn), licence plates and
  addresses found in text as ASR writes it (digits, Chinese numerals, 幺, split by pauses and commas).
- ``address``: the address reading behind the detector's addresses and the call's building and unit
  (``inspector.intake.location``): a small parser over building, unit, floor and room with fillers between.
- ``spans``: the same over a whole transcript (across words and utterances), with time spans from the
  word timestamps: what the audio mask covers.
- ``masking``: masked text (``139****5678``, ``4403**********3521``, ``[地址]``) and masked transcript
  dicts for readers without the ``pii`` permission.
- ``audio``: the recording with each detected span replaced by a tone, same format and length.
- ``retention``: the purge of original audio, masked audio and transcripts past their retention period.
"""
