"""Text helpers every layer shares: Chinese normalization for matching and CER (``normalize``) and
tone-less pinyin for homophone-tolerant matching (``pinyin``). Pure functions, no I/O."""
