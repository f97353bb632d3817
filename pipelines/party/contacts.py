"""Who answers for a grid on the party side, as a dispatcher or a viewer may see them.

The incident view adds this to its suggested responders next to the 网格员 and the department: the
grid's party branch and secretary, the members on duty there (网格员, 楼栋长, 志愿者, 在职党员 …),
its service team (组团服务) and the 楼栋长 of its buildings.  Phones are always masked (the rule for
every phone the dashboard shows); names are masked below the dispatcher role.
"""

from __future__ import annotations

import duckdb

from pipelines.masking import mask_name, mask_phone
from pipelines.party.domain import DUTY_ROLES
from pipelines.store.party import grid_party_contacts


def grid_party_view(con: duckdb.DuckDBPyConnection, grid_code: str | None, reveal_names: bool) -> dict:
    """branches, on_duty, team and building_heads of ``grid_code`` as lists of JSON-ready dicts."""
    data = grid_party_contacts(con, grid_code, DUTY_ROLES)

    def name(value) -> str:
        return (str(value) if value else "") if reveal_names else mask_name(value)

    return {
        "branches": [
            {
                "org_id": r.org_id,
                "name": r.name,
                "type": r.type,
                "secretary": name(r.secretary_name),
                "secretary_phone": mask_phone(r.secretary_phone),
                "members": None if r.members is None or r.members != r.members else int(r.members),
            }
            for r in data["branches"].itertuples()
        ],
        "on_duty": [
            {
                "member_id": r.member_id,
                "name": name(r.name),
                "roles": [*list(r.roles), *(["在职党员"] if r.in_service and "在职党员" not in r.roles else [])],
                "phone": mask_phone(r.phone),
            }
            for r in data["on_duty"].itertuples()
        ],
        "team": [
            {
                "team_id": r.team_id,
                "team_name": r.team_name,
                "member_id": r.member_id,
                "name": name(r.name),
                "duty": r.duty,
                "phone": mask_phone(r.phone),
            }
            for r in data["team"].itertuples()
        ],
        "building_heads": [
            {
                "building_id": r.building_id,
                "building": r.building,
                "name": name(r.name),
                "party_member": bool(r.party_member),
                "phone": mask_phone(r.phone),
            }
            for r in data["heads"].itertuples()
        ],
    }
