"""Customer emotion (客户情绪) of a call: ``lexicon`` (the word lexicon and its loader), ``scorer`` (scores
of utterances and of the whole call; the lexicon + sentiment-model backend), ``sentiment`` (the trained
customer-sentiment model: training at set-up, verified JSON weights) and ``classifier`` (an optional local
transformers text classifier as the backend).
"""
