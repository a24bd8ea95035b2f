"""Every route × every role: the expected answer class comes from the explicit table below.

How to read (and extend) the table:

- ``EXPECTED`` has one row per (method, path template) of the app under ``/api/v1`` that needs a login;
  ``PUBLIC`` lists every other route (no login needed). A route in neither — or a row without a route —
  fails ``test_every_route_has_an_expectation_row``: a new route cannot slip through unreviewed.
- ``Expect.roles``: the roles let through. Any other role gets 403 (role check).
- ``Expect.foreign``: for routes about one agent's record (a call, an agent, a team, an appeal...),
  what ``agent`` and ``team_lead`` get for a record outside their scope: an agent's scope is its own
  agent (8001); a team lead's its team (A组: agents 8001 and 8003). 404 where the record must not be
  known to exist (calls and things found through them), 403 where the id is no secret (an agent, a team).
  ``None``: the route is not about one agent's records (scoped roles are either refused or see a
  narrowed list, checked in the tests at the end).
- "Allowed" means: not 401/403/404 and no 5xx. A 409/422 *after* the authorization check counts as
  allowed. That is meaningful because FastAPI runs every dependency — ``current_principal`` and
  ``require_roles`` included — before it validates the body (a dependency that raises ends the request
  before ``RequestValidationError`` is raised). Two exceptions we avoid: an unparsable JSON body and
  ``Form``/``File`` parameters are read before the dependencies; routes here read forms in the handler
  after authorization and the sweep below sends well-formed JSON. ``test_authorization_comes_before_body_
  validation`` sends an invalid body to every unsafe route to prove the order.
- Requests use a seeded world: one done call per agent (8001 and 8003 in A组, 8002 in B组) with its audio,
  a review, an appeal, an alert and a coaching assignment each; the rule set of the default rules. The
  variants ``mine`` (8001's records), ``teammate`` (8003's) and ``other`` (8002's) fill the path params,
  the query and the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from api.app import API_PREFIX

TZ = ZoneInfo("Asia/Shanghai")

ALL = frozenset({"admin", "reviewer", "trainer", "team_lead", "agent"})
STAFF = ALL - {"agent"}
REVIEWERS = frozenset({"admin", "reviewer"})  # also: who changes scores (a trainer cannot)
ADMIN = frozenset({"admin"})
AGENT = frozenset({"agent"})
COACHES = frozenset({"admin", "trainer", "team_lead"})
CLOSERS = frozenset({"admin", "trainer", "agent"})  # coaching done: the agent it is for, or admin/trainer
ALERT_HANDLERS = frozenset({"admin", "reviewer", "team_lead"})
ROLES = ("admin", "reviewer", "trainer", "team_lead", "agent")
SCOPED = ("agent", "team_lead")


@dataclass(frozen=True)
class Expect:
    roles: frozenset[str]
    foreign: int | None = None
    query: str = ""
    body: Any = None


V1 = API_PREFIX
# A rule for the playground, in block style: body strings are filled with str.format (no braces).
TRY = "id: t\nname: 试\ncategory: greeting\ndimension: service\nmode: detect\nwhen:\n  keywords:\n    any: [您好]\n"
EXPECTED: dict[tuple[str, str], Expect] = {
    # calls
    ("POST", f"{V1}/calls"): Expect(ADMIN),
    ("GET", f"{V1}/calls"): Expect(ALL, query="agent_id={agent_id}"),  # narrowed, never refused
    ("POST", f"{V1}/calls/retry"): Expect(REVIEWERS),
    ("GET", f"{V1}/calls/{{call_id}}"): Expect(ALL, foreign=404),
    ("GET", f"{V1}/calls/{{call_id}}/transcript"): Expect(ALL, foreign=404),
    ("GET", f"{V1}/calls/{{call_id}}/audio"): Expect(ALL, foreign=404),
    ("POST", f"{V1}/calls/{{call_id}}/retry"): Expect(REVIEWERS),
    # agents and teams (lists), scorecards, leaderboards, exports
    ("GET", f"{V1}/agents"): Expect(ALL),  # narrowed, never refused
    ("GET", f"{V1}/teams"): Expect(STAFF),  # a team lead: its own team only
    ("GET", f"{V1}/agents/{{agent_id}}/scorecard"): Expect(ALL, foreign=403),
    ("GET", f"{V1}/teams/{{team}}/leaderboard"): Expect(STAFF, foreign=403),
    ("GET", f"{V1}/exports/calls.csv"): Expect(STAFF),
    ("GET", f"{V1}/exports/calls.xlsx"): Expect(STAFF),
    ("GET", f"{V1}/exports/calls/{{call_id}}/transcript.csv"): Expect(ALL, foreign=404),
    ("GET", f"{V1}/exports/calls/{{call_id}}/transcript.xlsx"): Expect(ALL, foreign=404),
    ("GET", f"{V1}/exports/calls/{{call_id}}/audio"): Expect(ALL, foreign=404),
    ("GET", f"{V1}/exports/scorecards.csv"): Expect(STAFF, foreign=403, query="team={team}"),
    ("GET", f"{V1}/exports/scorecards.xlsx"): Expect(STAFF, foreign=403, query="team={team}"),
    # rule sets
    ("GET", f"{V1}/rulesets"): Expect(ALL),
    ("POST", f"{V1}/rulesets"): Expect(ADMIN),
    ("POST", f"{V1}/rulesets/{{rule_set_id}}/activate"): Expect(ADMIN),
    ("POST", f"{V1}/rulesets/{{rule_set_id}}/rescore"): Expect(ADMIN),
    ("POST", f"{V1}/rulesets/{{rule_set_id}}/backtest"): Expect(REVIEWERS),
    ("GET", f"{V1}/rulesets/playground"): Expect(STAFF),  # the active rules' texts: not for agents
    ("POST", f"{V1}/rulesets/playground"): Expect(ALL, foreign=404, body={"call_id": "{call_id}", "rule_yaml": TRY}),
    # operations, login
    ("GET", f"{V1}/metrics"): Expect(ALL),
    ("GET", f"{V1}/auth/me"): Expect(ALL),
    # review (复核): reading for all (an agent: own calls), changing scores for admin + reviewer
    ("GET", f"{V1}/reviews"): Expect(REVIEWERS),
    ("POST", f"{V1}/reviews/sample"): Expect(REVIEWERS, body={}),
    ("POST", f"{V1}/reviews/{{review_id}}/complete"): Expect(REVIEWERS, body={"comment": "已复核"}),
    ("GET", f"{V1}/calls/{{call_id}}/review"): Expect(ALL, foreign=404),
    ("POST", f"{V1}/calls/{{call_id}}/hits/{{index}}/verdict"): Expect(REVIEWERS, body={"verdict": "confirmed"}),
    ("POST", f"{V1}/calls/{{call_id}}/findings"): Expect(REVIEWERS, body={"description": "漏检", "points": -1}),
    ("POST", f"{V1}/calls/{{call_id}}/score"): Expect(REVIEWERS, body={"score": 90, "reason": "复核调整"}),
    ("GET", f"{V1}/rules/precision"): Expect(STAFF),
    ("GET", f"{V1}/reviews/carry-over-losses"): Expect(STAFF),  # narrowed for a team lead
    ("GET", f"{V1}/audit"): Expect(REVIEWERS, query="entity=call&entity_id={call_id}"),
    ("GET", f"{V1}/audit/reveals"): Expect(ADMIN),
    # appeals (申诉): agents appeal on their own calls; admin + reviewer resolve
    ("POST", f"{V1}/calls/{{call_id}}/hits/{{index}}/appeal"): Expect(AGENT, foreign=404, body={"comment": "不认可"}),
    ("GET", f"{V1}/appeals"): Expect(ALL, foreign=403, query="agent_id={agent_id}"),
    ("POST", f"{V1}/appeals/{{appeal_id}}/resolve"): Expect(
        REVIEWERS, body={"decision": "rejected", "resolution": "维持扣分"}
    ),
    # training (培训辅导)
    ("GET", f"{V1}/competencies"): Expect(ALL),
    ("GET", f"{V1}/courses"): Expect(ALL),
    ("GET", f"{V1}/agents/{{agent_id}}/competencies"): Expect(ALL, foreign=403),
    ("POST", f"{V1}/coaching"): Expect(
        COACHES, foreign=403, body={"agent_id": "{agent_id}", "competency": "service_skills"}
    ),
    ("GET", f"{V1}/coaching"): Expect(ALL, foreign=403, query="agent_id={agent_id}"),
    ("POST", f"{V1}/coaching/{{assignment_id}}/done"): Expect(CLOSERS, foreign=404),
    ("POST", f"{V1}/coaching/{{assignment_id}}/cancel"): Expect(frozenset({"admin", "trainer"})),
    # monthly assessment (考核)
    ("GET", f"{V1}/assessments"): Expect(STAFF, foreign=403, query="team={team}"),
    ("GET", f"{V1}/exports/assessments.xlsx"): Expect(STAFF, foreign=403, query="team={team}"),
    # alerts (预警)
    ("GET", f"{V1}/alerts"): Expect(STAFF),
    ("POST", f"{V1}/alerts/{{alert_id}}/ack"): Expect(ALERT_HANDLERS, foreign=403, body={"note": "已处理"}),
    ("GET", f"{V1}/alerts/{{alert_id}}/deliveries"): Expect(REVIEWERS),
    ("POST", f"{V1}/alerts/{{alert_id}}/redeliver"): Expect(ADMIN),
    # complaint cases (投诉工单): read by staff (a team lead: its team's); opened and moved on by the alert handlers
    ("GET", f"{V1}/cases"): Expect(STAFF),
    ("GET", f"{V1}/cases/stats"): Expect(STAFF),
    ("GET", f"{V1}/cases/{{case_id}}"): Expect(STAFF, foreign=404),
    ("POST", f"{V1}/cases"): Expect(ALERT_HANDLERS, foreign=404, body={"call_id": "{call_id}", "note": "人工立案"}),
    ("POST", f"{V1}/cases/{{case_id}}/advance"): Expect(ALERT_HANDLERS, foreign=404, body={"note": "已核实"}),
    ("GET", f"{V1}/insights/emerging"): Expect(STAFF),
    # demand forecast (需求预测): staff only (a team lead counts its team's calls)
    ("GET", f"{V1}/insights/forecast"): Expect(STAFF),
    ("GET", f"{V1}/insights/forecast.csv"): Expect(STAFF),
    # satisfaction surveys: imported by admins and reviewers, the rule-effect analysis for staff
    ("POST", f"{V1}/satisfaction/import"): Expect(REVIEWERS),
    ("POST", f"{V1}/satisfaction"): Expect(REVIEWERS, body={"items": [{"call_id": "{call_id}", "csat": 4}]}),
    ("GET", f"{V1}/satisfaction/effects"): Expect(STAFF),
    # insights (洞察): aggregates across agents are for staff (a team lead: its team's calls); repeat-contact
    # chains also for agents (their own calls only), another agent's filter refused
    ("GET", f"{V1}/insights/hot-issues"): Expect(STAFF),
    ("GET", f"{V1}/insights/owners"): Expect(STAFF),
    ("GET", f"{V1}/insights/repeat-contacts"): Expect(ALL, foreign=403, query="agent_id={agent_id}"),
    # reviewer calibration (校准): admin creates and closes; reviewers read and judge (only if assigned: else 409);
    # the agreement for admin, reviewers and trainers (before close: admin only, else 409)
    ("POST", f"{V1}/calibrations"): Expect(
        ADMIN, body={"name": "校准", "reviewers": ["admin", "reviewer"], "call_ids": ["{call_id}"]}
    ),
    ("GET", f"{V1}/calibrations"): Expect(REVIEWERS | {"trainer"}),
    ("GET", f"{V1}/calibrations/{{calibration_id}}"): Expect(REVIEWERS),
    ("POST", f"{V1}/calibrations/{{calibration_id}}/verdicts"): Expect(
        REVIEWERS, body={"call_id": "{call_id}", "hit_index": 0, "verdict": "confirmed"}
    ),
    ("POST", f"{V1}/calibrations/{{calibration_id}}/close"): Expect(ADMIN),
    ("GET", f"{V1}/calibrations/{{calibration_id}}/agreement"): Expect(REVIEWERS | {"trainer"}),
    # organization hierarchy (组织架构): the tree and node figures for staff (a team lead / project manager: its
    # scope's nodes), replacing it and moving agents for admins; an agent's team history like its scorecard
    ("GET", f"{V1}/org"): Expect(STAFF),
    ("PUT", f"{V1}/org"): Expect(ADMIN, body={"id": "g", "regions": [{"id": "east", "projects": [
        {"id": "p1", "teams": ["A组"]}, {"id": "p2", "teams": ["B组"]}]}]}),
    ("GET", f"{V1}/org/{{node_id}}/scorecard"): Expect(STAFF, foreign=403),
    ("GET", f"{V1}/org/{{node_id}}/leaderboard"): Expect(STAFF, foreign=403),
    ("GET", f"{V1}/agents/{{agent_id}}/teams"): Expect(ALL, foreign=403),
    ("POST", f"{V1}/agents/{{agent_id}}/team"): Expect(ADMIN, body={"team_id": "{team}"}),
}  # fmt: skip

# No login needed: health, the vocabulary, login/logout, API docs, the web UI's static pages (their data calls
# need one).
PUBLIC: dict[tuple[str, str], Any] = {
    ("GET", f"{V1}/healthz"): None,
    ("GET", f"{V1}/vocabulary"): None,
    ("POST", f"{V1}/auth/login"): {"username": "admin", "password": "{password}"},
    ("POST", f"{V1}/auth/logout"): None,
    ("GET", "/openapi.json"): None,
    ("HEAD", "/openapi.json"): None,
    ("GET", "/docs"): None,
    ("MOUNT", "/docs/assets"): None,  # the vendored Swagger UI files (when installed)
    ("GET", "/"): None,
    ("GET", "/ui"): None,
    ("GET", "/ui/"): None,
    ("GET", "/ui/{path:path}"): None,
}

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# Routes that let several roles through ``Anyone`` and refuse the others in the handler, i.e. after the
# body was validated: an invalid body gets 422 there before the 403. Better: a ``require_roles``
# dependency (then remove the row here).
ROLE_CHECKED_IN_HANDLER: set[tuple[str, str]] = set()


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route of the app, walking included routers; mounts as MOUNT."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            found.add(("MOUNT", context.path))
        elif isinstance(route, APIRoute | Route):
            found.update((method, context.path) for method in route.methods or ())
        else:
            found.add((type(route).__name__, getattr(context, "path", "?")))  # unknown kind: needs a row
    return found


# --- the seeded world ----------------------------------------------------------------------------


ORG = {"id": "g", "regions": [{"id": "east", "projects": [{"id": "p1", "teams": ["A组"]},
                                                         {"id": "p2", "teams": ["B组"]}]}]}


@pytest.fixture
def world(database, settings, make_call, tokens, password) -> dict[str, dict[str, Any]]:
    """Path/query/body values per variant: ``mine`` (agent 8001, A组), ``teammate`` (8003, A组),
    ``other`` (8002, B组). The org tree: 集团 g → 区域 east → 项目 p1 (A组) and p2 (B组)."""
    from inspector.people import calibration, cases, coaching
    from inspector.people.catalog import catalog_for
    from inspector.people.org import apply_org, parse_org
    from inspector.store.db import utcnow
    from inspector.store.schema import AlertEvent, Appeal, Call, CoachingAssignment, Review, RuleSetRecord

    seeds = {
        "mine": ("call-a", "8001", "A组", "call02_angry_stereo"),
        "teammate": ("call-a2", "8003", "A组", "call01_leak_stereo"),
        "other": ("call-b", "8002", "B组", "call03_parking_fast_stereo"),
    }
    for call_id, agent_id, team, sample in seeds.values():
        make_call(call_id, agent_id, team=team, sample=sample, started_at=datetime(2024, 3, 15, 10, tzinfo=TZ))
    catalog = catalog_for(settings.rules_dir)
    values: dict[str, dict[str, Any]] = {}
    with database.session() as session:
        apply_org(session, parse_org(ORG))
        rule_set_id = session.query(RuleSetRecord.id).scalar()
        for variant, (call_id, agent_id, team, _sample) in seeds.items():
            call = session.get(Call, call_id)
            assert call is not None and call.analysis_id is not None
            now = utcnow()
            review = Review(call_id=call_id, analysis_id=call.analysis_id, reason="manual", status="pending",
                            created_at=now)  # fmt: skip
            appeal = Appeal(call_id=call_id, analysis_id=call.analysis_id, hit_index=0, rule_id="greeting",
                            agent_id=agent_id, comment="申诉", status="open", created_at=now)  # fmt: skip
            alert = AlertEvent(call_id=call_id, analysis_id=call.analysis_id, agent_id=agent_id, level="red",
                               reasons=["测试"], status="open", created_at=now, delivery="none")  # fmt: skip
            session.add_all([review, appeal, alert])
            session.flush()
            assignment = coaching.assign(session, catalog, "user:admin", "admin", agent_id, "service_skills", None,
                                         [], None, None)  # fmt: skip
            assert isinstance(assignment, CoachingAssignment)
            case = cases.open_case(session, settings.cases, call=call, actor="user:admin", role="admin", now=now)
            values[variant] = {
                "call_id": call_id, "agent_id": agent_id, "team": team, "rule_set_id": rule_set_id, "index": 0,
                "review_id": review.id, "appeal_id": appeal.id, "alert_id": alert.id,
                "assignment_id": assignment.id, "case_id": case.id, "password": password, "node_id": team,
            }  # fmt: skip
        calls = calibration.calls_by_id(session, [seed[0] for seed in seeds.values()])
        round_id = calibration.create_round(session, "user:admin", "admin", "校准", ["admin", "reviewer"], calls).id
    for variant in values:
        values[variant]["calibration_id"] = round_id
    return values


def _fill(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**params) if "{" in value else value
    if isinstance(value, dict):
        return {key: _fill(item, params) for key, item in value.items()}
    return value


def _url(path: str, query: str, params: dict[str, Any]) -> str:
    url = path.replace("{path:path}", "calls").format(**params)
    return f"{url}?{_fill(query, params)}" if query else url


def _request(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    if body is None:
        return client.request(method, url, headers=headers)
    return client.request(method, url, json=body, headers=headers)


def _expected(expect: Expect, role: str, variant: str) -> int | None:
    """None: allowed; else the status the role must get."""
    if role not in expect.roles:
        return 403
    if expect.foreign is None or role not in SCOPED or variant == "mine":
        return None
    if role == "team_lead" and variant == "teammate":
        return None
    return expect.foreign


def _allowed(status: int) -> bool:
    return status not in (401, 403, 404) and status < 500


# --- the tests -----------------------------------------------------------------------------------


def test_every_route_has_an_expectation_row(app) -> None:
    routes = app_routes(app)
    rows = set(EXPECTED) | set(PUBLIC)
    assert not set(EXPECTED) & set(PUBLIC)
    missing = sorted(routes - rows, key=str)
    assert not missing, f"routes without a row in EXPECTED/PUBLIC (add one): {missing}"
    stale = sorted(rows - routes - {("MOUNT", "/docs/assets")}, key=str)  # the mount exists when installed
    assert not stale, f"rows without a route (remove them): {stale}"
    assert all(path.startswith(API_PREFIX + "/") for _, path in EXPECTED)


@pytest.fixture(params=["team", "project"])
def lead_scope(request, database, users, world) -> str:
    """How the team lead's scope is given: its team (``users.team_id`` A组), or the org node of the project
    that holds A组 (``users.scope`` p1, a 项目经理). Both must give the same answers on every route."""
    from inspector.store.users import get_user, set_scope

    if request.param == "project":
        with database.session() as session:
            user = get_user(session, users["team_lead"])
            assert user is not None
            set_scope(session, user, "p1", actor="test")
    return str(request.param)


def test_the_route_role_matrix(app, client, headers, world, lead_scope) -> None:
    failures: list[str] = []
    # Reads first, so the writes (resolving, cancelling...) cannot change what a read finds.
    ordered = sorted(EXPECTED.items(), key=lambda item: (item[0][0] in UNSAFE, item[0][1]))
    for (method, path), expect in ordered:
        variants = ("mine", "teammate", "other") if expect.foreign is not None else ("mine",)
        for variant in variants:
            params = world[variant]
            url = _url(path, expect.query, params)
            body = _fill(expect.body, params)
            response = _request(client, method, url, body, {})
            if response.status_code != 401:
                failures.append(f"{method} {url} without login: {response.status_code}, expected 401")
            for role in ROLES:
                response = _request(client, method, url, body, headers[role])
                want = _expected(expect, role, variant)
                ok = _allowed(response.status_code) if want is None else response.status_code == want
                if not ok:
                    failures.append(
                        f"{method} {url} as {role} ({variant}): {response.status_code} "
                        f"{response.text[:160]}, expected {'allowed' if want is None else want}"
                    )
    assert not failures, "\n".join(failures)


def test_public_routes_need_no_login(app, client, world) -> None:
    for (method, path), body in PUBLIC.items():
        if method == "MOUNT":
            if (method, path) not in app_routes(app):
                continue
            method, path = "GET", f"{path}/swagger-ui-bundle.js"
        response = _request(client, method, _url(path, "", world["mine"]), _fill(body, world["mine"]), {})
        assert _allowed(response.status_code) or response.status_code in (200, 204, 307), (method, path, response)


def test_authorization_comes_before_body_validation(client, headers, world) -> None:
    """An invalid body (well-formed JSON of the wrong shape) still gets 401 without login and 403 for a
    role not allowed — the body is never looked at before the caller is known to be allowed."""
    for (method, path), expect in EXPECTED.items():
        if method not in UNSAFE:
            continue
        url = _url(path, expect.query, world["mine"])
        assert client.request(method, url, json=[1]).status_code == 401, url
        for role in sorted(ALL - expect.roles):
            response = client.request(method, url, json=[1], headers=headers[role])
            allowed = {403, 422} if (method, path) in ROLE_CHECKED_IN_HANDLER else {403}
            assert response.status_code in allowed, (url, role, response.text)


def test_cookie_sessions_need_the_csrf_token_on_every_unsafe_route(login, world) -> None:
    admin = login("admin")
    for (method, path), expect in EXPECTED.items():
        if method not in UNSAFE:
            continue
        url = _url(path, expect.query, world["mine"])
        response = admin.request(method, url, json=_fill(expect.body, world["mine"]), headers={"X-CSRF-Token": ""})
        assert response.status_code == 403 and response.json()["code"] == "csrf_failed", (url, response.text)
    assert admin.get(f"{API_PREFIX}/calls/call-a", headers={"X-CSRF-Token": ""}).status_code == 200  # reads: none


def test_cookie_and_bearer_agree(login, client, headers, world) -> None:
    """The same principal by cookie or by token gets the same answers (team lead and agent users)."""
    lead = login("team_lead")
    agent = login("agent")
    for path in ("/calls/call-a", "/calls/call-a2", "/calls/call-b", "/agents/8003/scorecard",
                 "/agents/8002/scorecard", "/teams/B组/leaderboard", "/teams/A组/leaderboard"):  # fmt: skip
        url = API_PREFIX + path
        assert lead.get(url).status_code == client.get(url, headers=headers["team_lead"]).status_code, url
        assert agent.get(url).status_code == client.get(url, headers=headers["agent"]).status_code, url


# --- narrowed lists ------------------------------------------------------------------------------


def _ids(client: TestClient, url: str, auth: dict[str, str], key: str = "call_id") -> set[str]:
    response = client.get(url, headers=auth)
    assert response.status_code == 200, response.text
    return {str(item[key]) for item in response.json()["items"]}


def test_lists_are_narrowed_to_the_team_or_the_agent(client, headers, world) -> None:
    everyone = {"call-a", "call-a2", "call-b"}
    team_a = {"call-a", "call-a2"}
    calls = f"{API_PREFIX}/calls"
    assert _ids(client, calls, headers["reviewer"]) == everyone
    assert _ids(client, calls, headers["team_lead"]) == team_a
    assert _ids(client, calls + "?team=B组", headers["team_lead"]) == set()
    assert _ids(client, calls + "?agent_id=8002", headers["team_lead"]) == set()
    assert _ids(client, calls, headers["other_team_lead"]) == {"call-b"}
    assert _ids(client, calls, headers["agent"]) == {"call-a"}
    assert _ids(client, f"{API_PREFIX}/alerts", headers["team_lead"]) == team_a
    assert _ids(client, f"{API_PREFIX}/alerts", headers["admin"]) == everyone
    assert _ids(client, f"{API_PREFIX}/coaching", headers["team_lead"], "agent_id") == {"8001", "8003"}
    assert _ids(client, f"{API_PREFIX}/coaching", headers["agent"], "agent_id") == {"8001"}
    assert _ids(client, f"{API_PREFIX}/appeals", headers["agent"]) == {"call-a"}


def test_exports_are_narrowed_to_the_team(client, headers, world) -> None:
    import io

    import pandas as pd

    def rows(url: str, who: str, column: str) -> set[str]:
        response = client.get(API_PREFIX + url, headers=headers[who])
        assert response.status_code == 200, response.text
        return set(pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", dtype=str)[column])

    assert rows("/exports/calls.csv", "team_lead", "通话编号") == {"call-a", "call-a2"}
    assert rows("/exports/calls.csv", "trainer", "通话编号") == {"call-a", "call-a2", "call-b"}
    period = "?from=2024-03-01&to=2024-03-31"
    assert rows(f"/exports/scorecards.csv{period}", "team_lead", "坐席") == {"8001", "8003"}
    assert rows(f"/exports/scorecards.csv{period}", "other_team_lead", "坐席") == {"8002"}
    assert rows(f"/exports/scorecards.csv{period}", "admin", "坐席") == {"8001", "8002", "8003"}


def test_appeal_list_is_narrowed_to_the_team(client, headers, world) -> None:
    assert _ids(client, f"{API_PREFIX}/appeals", headers["team_lead"]) == {"call-a", "call-a2"}
