"""Inductive inference: embedding items the model never saw, exactly as they are evaluated and served.

`attach` validates new items and their first interactions and walks their neighbourhoods (DGL, through
`graph`); `vectors` makes a new item's served vector and prior. The evaluation of held-out items and the
`embed_new_items` job both call `new_item_vectors`, so what is measured is what is served.
"""
