"""PinSage item embeddings and item-to-item recall.

The modules of this package are a library core with no Kedro imports: a notebook can load data
(`sources`), build features (`features`), split (`split`), build the graph (`graph`), sample
neighbourhoods (`sampling`), train (`training`), embed (`inference`), index (`index`) and evaluate
(`evaluation`) directly. `pinsage.pipelines` wires the same functions to the Kedro catalog.
"""

__version__ = "0.1.0"
