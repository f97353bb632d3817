"""The stored walking network of the latest coverage run: nodes, segments and where buildings and facilities join it.

A full run (:func:`pipelines.coverage.compute_coverage`) writes the three tables whole
(:func:`pipelines.store.coverage.write_coverage` swaps them in); the planner reads them back
(:func:`network_tables`, :func:`links_for`) instead of building the network again.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from geo.network import Attachment, WalkNetwork


def network_rows(
    network: WalkNetwork, building_ids: pa.Array, facility_ids: pd.Series, b_links: Attachment, f_links: Attachment
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Nodes, edges and links of the network as the Arrow tables ``network_nodes/edges/links`` store."""
    lon, lat = network.frame.to_lnglat(network.node_xy[:, 0], network.node_xy[:, 1])
    nodes = pa.table(
        {
            "node_id": np.arange(network.n_nodes, dtype=np.int32),
            "x": network.node_xy[:, 0],
            "y": network.node_xy[:, 1],
            "lon": lon,
            "lat": lat,
        }
    )
    edges = pa.table(
        {
            "edge_id": np.arange(len(network.edge_u), dtype=np.int32),
            "u": network.edge_u.astype(np.int32),
            "v": network.edge_v.astype(np.int32),
            "length_m": network.edge_length,
        }
    )
    links = pa.concat_tables(
        [links_table("building", building_ids, b_links), links_table("facility", facility_ids, f_links)]
    )
    return nodes, edges, links


def links_table(kind: str, ids: pd.Series | pa.Array, links: Attachment) -> pa.Table:
    """``network_links`` rows of one kind (building or facility) of item."""
    return pa.table(
        {
            "kind": pa.repeat(pa.scalar(kind), len(ids)),
            "item_id": ids if isinstance(ids, pa.Array) else pa.array(ids.astype(str).to_numpy(object), pa.string()),
            "edge_id": links.edge.astype(np.int32),
            "along_m": links.along_m,
            "offset_m": links.offset_m,
        }
    )


def network_tables(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, pd.DataFrame]:
    """The stored walking network: node arrays, edge arrays and the building/facility links."""
    nodes = con.execute("SELECT x, y FROM network_nodes ORDER BY node_id").fetchnumpy()
    edges = con.execute("SELECT u, v FROM network_edges ORDER BY edge_id").fetchnumpy()
    links = con.execute("SELECT kind, item_id, edge_id, along_m, offset_m FROM network_links").df()
    return nodes, edges, links


def links_for(links: pd.DataFrame, kind: str, ids: pd.Series) -> Attachment:
    """The stored links of the given items of one kind, in their order (edge -1 where an item has none)."""
    own = links[links["kind"] == kind].set_index("item_id").reindex(ids.astype(str).to_numpy())
    edge = own["edge_id"].fillna(-1).astype(np.int64).to_numpy()
    return Attachment(edge, own["along_m"].fillna(0.0).to_numpy(), own["offset_m"].fillna(np.inf).to_numpy())
