"""The generators of the six source systems, one module each (as ``models/staging/<source>/``).

Each module holds one mixin of :class:`steward.seed.generate.WarehouseGenerator`:
its methods write that system's tables through ``self.load`` and read what the
earlier steps left on ``self`` (customers and phones from crm, calls from
telephony). The order of the steps is ``WarehouseGenerator.run``; every random
draw comes from ``self.rng(<name>)``, so a step's output depends only on the
seed and on the steps before it.
"""
