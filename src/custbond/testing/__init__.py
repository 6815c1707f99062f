"""Testing helpers for hosts: Hypothesis strategies (``custbond.testing.strategies``).

Install with the ``testing`` extra: ``pip install 'custbond[testing]'``.
"""
