"""Rule sets: list, upload (validated whole), activate (with rescoring), rescore, backtest (回测: what a stored
rule set would change on the done calls, computed from their stored transcripts, writing nothing), and the
playground (规则试验台: one rule tried on one call or a pasted dialogue, writing nothing)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import Admin, Anyone, DbSession, Reviewer, Staff, State, visible_call
from api.errors import ApiError, invalid_param, validation_error
from api.fields import IdPath
from api.privacy import mask_tree
from api.queries import parse_date
from api.schemas.errors import error_responses
from api.schemas.rulesets import (
    DEFAULT_CALLS_CHANGED,
    MAX_CALLS_CHANGED,
    MAX_PLAYGROUND_LINES,
    MAX_PLAYGROUND_RULE_BYTES,
    BacktestAgentOut,
    BacktestCallOut,
    BacktestRequest,
    BacktestResult,
    BacktestRuleOut,
    PlaygroundExample,
    PlaygroundExamples,
    PlaygroundFinding,
    PlaygroundRequest,
    PlaygroundResult,
    PlaygroundUtterance,
    RescoreResult,
    RuleSetCreated,
    RuleSetList,
    ruleset_out,
)
from api.state import AppState
from api.uploads import read_form
from inspector.errors import RuleFileError
from inspector.people import backtest
from inspector.qa.rules.engine import Finding, compile_ruleset, evaluate
from inspector.qa.rules.loader import parse_ruleset
from inspector.qa.rules.schema import RuleSet
from inspector.service import rescore
from inspector.speech.transcript import Diarization, Role, Transcript, Utterance
from inspector.store.calls import load_transcript
from inspector.store.ruleset_cache import RULESETS
from inspector.store.rulesets import active_ruleset, add_ruleset, list_rulesets
from inspector.store.schema import RuleSetRecord
from inspector.yamlfile import read_yaml

router = APIRouter(tags=["规则集"])

MAX_FILES = 50
FILES_DESCRIPTION = "规则集 YAML 文件（可多个：规则集文件，以及可选的 vocabulary.yaml、emotion.yaml）"

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": FILES_DESCRIPTION,
                        }
                    },
                    "required": ["files"],
                }
            }
        },
    }
}


def _read_bundle(form: FormData, limit: int) -> dict[str, str]:
    """{file name: text} of the uploaded files; 413 past ``limit`` bytes in all, 422 for a bad file."""
    uploads = [value for key, value in form.multi_items() if key == "files" and isinstance(value, UploadFile)]
    if not uploads:
        raise validation_error([{"loc": ("body", "files"), "type": "missing"}])
    files: dict[str, str] = {}
    total = 0
    for upload in uploads:
        name = PurePosixPath((upload.filename or "").replace("\\", "/")).name
        if not name.endswith(".yaml"):
            raise RuleFileError(name or "（无文件名）", "规则文件名必须以 .yaml 结尾")
        if name in files:
            raise RuleFileError(name, "同名文件上传了两次")
        data = upload.file.read(limit - total + 1)
        total += len(data)
        if total > limit:
            raise ApiError(413, "ruleset_too_large", f"规则文件总大小超过上限 {limit} 字节", limit_bytes=limit)
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RuleFileError(name, f"不是 UTF-8 编码的文本（第 {err.start} 字节）") from None
    return files


def _get(session: Any, rule_set_id: int) -> RuleSetRecord:
    record = session.get(RuleSetRecord, rule_set_id)
    if record is None:
        raise ApiError(404, "ruleset_not_found", f"规则集 {rule_set_id} 不存在", ruleset_id=rule_set_id)
    return record


def _store(state: AppState, files: dict[str, str]) -> tuple[RuleSetCreated, bool]:
    with state.db.session() as session:
        record, created = add_ruleset(session, files)
        out = RuleSetCreated(**ruleset_out(state, record).model_dump(), created=created)
    return out, created


@router.get("/rulesets", response_model=RuleSetList, summary="规则集列表")
def get_rulesets(_: Anyone, state: State, session: DbSession) -> RuleSetList:
    return RuleSetList(items=[ruleset_out(state, r) for r in list_rulesets(session)])


@router.post(
    "/rulesets",
    status_code=201,
    response_model=RuleSetCreated,
    summary="上传规则集（校验通过才保存；不会自动启用）",
    responses={200: {"model": RuleSetCreated, "description": "相同内容的规则集已存在"}, **error_responses(400)},
    openapi_extra=UPLOAD_OPENAPI,
)
async def upload_ruleset(request: Request, _: Admin, state: State) -> JSONResponse:
    async with read_form(request, max_files=MAX_FILES, max_fields=10) as form:
        files = await run_in_threadpool(_read_bundle, form, state.settings.api.max_ruleset_bytes)
    out, created = await run_in_threadpool(_store, state, files)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if created else 200)


@router.post(
    "/rulesets/{rule_set_id}/activate", response_model=RescoreResult, summary="启用规则集并重新评分已完成的通话"
)
def activate_ruleset(rule_set_id: IdPath, _: Admin, state: State) -> RescoreResult:
    with state.db.session() as session:
        _get(session, rule_set_id)
    try:
        scheduled = rescore.activate_and_rescore(state.db, state.queue, state.settings, rule_set_id)
    except rescore.RuleSetNotFound:  # deleted in between: answered like _get (the API's code and ruleset_id)
        raise ApiError(404, "ruleset_not_found", f"规则集 {rule_set_id} 不存在", ruleset_id=rule_set_id) from None
    with state.db.session() as session:
        return RescoreResult(ruleset=ruleset_out(state, _get(session, rule_set_id)), scheduled=scheduled)


@router.post(
    "/rulesets/{rule_set_id}/rescore",
    status_code=202,
    response_model=RescoreResult,
    summary="用此规则集重新评分所有已完成的通话",
)
def rescore_ruleset(rule_set_id: IdPath, _: Admin, state: State) -> RescoreResult:
    with state.db.session() as session:
        out = ruleset_out(state, _get(session, rule_set_id))
    scheduled = rescore.enqueue_rescore(state.db, state.queue, state.settings, rule_set_id)
    return RescoreResult(ruleset=out, scheduled=scheduled)


LimitQuery = Annotated[
    int | None,
    Query(ge=0, le=MAX_CALLS_CHANGED, description=f"最多列出多少通变化的通话（默认 {DEFAULT_CALLS_CHANGED}）"),
]


@router.post(
    "/rulesets/{rule_set_id}/backtest",
    response_model=BacktestResult,
    summary="回测：用此规则集重新评分已完成的通话（复用已存转写），与现有结果对比，不写入任何数据",
    description=(
        "日期范围与条数可放在查询参数或 JSON 请求体中（请求体优先）。"
        "在本进程内逐通评分，通话很多时需要较长时间（约每秒一千通）。"
    ),
)
def backtest_ruleset(
    rule_set_id: IdPath,
    _: Reviewer,
    state: State,
    session: DbSession,
    body: Annotated[BacktestRequest | None, Body()] = None,
    date_from: Annotated[str | None, Query(description="开始日期（含），YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(description="结束日期（含），YYYY-MM-DD")] = None,
    limit_calls_changed: LimitQuery = None,
) -> BacktestResult:
    given = body or BacktestRequest()
    start = given.date_from or parse_date("date_from", date_from)
    end = given.date_to or parse_date("date_to", date_to)
    if start is not None and end is not None and start > end:
        raise invalid_param("date_from", "开始日期不能晚于结束日期")
    limit = next((v for v in (given.limit_calls_changed, limit_calls_changed) if v is not None), DEFAULT_CALLS_CHANGED)
    record = _get(session, rule_set_id)
    candidate = backtest.stored_candidate(session, rule_set_id)
    assert candidate is not None  # _get found it just above, in the same transaction
    result = backtest.backtest(session, candidate, start, end, limit_calls_changed=limit)
    return BacktestResult(
        ruleset=ruleset_out(state, record),
        date_from=start.isoformat() if start else None,
        date_to=end.isoformat() if end else None,
        calls=result.calls,
        skipped=result.skipped,
        seconds=result.seconds,
        rules=[BacktestRuleOut(**vars(r)) for r in result.rules],
        agents=[BacktestAgentOut(**vars(a)) for a in result.agents],
        calls_changed=[
            BacktestCallOut(**{**vars(c), "day": c.day.isoformat() if c.day else None}) for c in result.calls_changed
        ],
        calls_changed_total=result.calls_changed_total,
    )


# --- playground (规则试验台) -------------------------------------------------------------------------

PLAYGROUND_FILE = "rule_yaml"  # how errors name the rule's YAML (the request field)
_DIALOGUE_LINE = re.compile(r"^\s*(坐席|客户)\s*[：:]\s*(.*?)\s*$")
_DIALOGUE_ROLES: dict[str, Role] = {"坐席": "agent", "客户": "customer"}
CHARS_PER_SECOND = 4.0  # a pasted line lasts as long as saying it at this pace (at least a second)
PAUSE_S = 0.5  # between two pasted lines


def _active_pack(session: Any) -> tuple[RuleSetRecord, RuleSet]:
    record = active_ruleset(session)
    if record is None:
        raise ApiError(409, "no_active_ruleset", "还没有启用的规则集，无法提供维度")
    return record, RULESETS.get(record).ruleset


def _read_rule_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The rule's data and node tree, parsed with the bounds of every rule file (errors name ``rule_yaml``)."""
    with tempfile.TemporaryDirectory(prefix="inspector-playground-") as tmp:
        path = Path(tmp) / "rule.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return read_yaml(path)
        except RuleFileError as err:
            raise RuleFileError(PLAYGROUND_FILE, err.reason, line=err.line) from None


def playground_ruleset(pack: RuleSet, text: str) -> RuleSet:
    """The active pack's dimensions with this one rule, validated as a rule file is (``RuleFileError`` naming
    the line and field of ``rule_yaml``). A one-item list (a rule copied with its ``- ``) is taken too."""
    data, node = _read_rule_yaml(text)
    if isinstance(data, list) and len(data) == 1 and isinstance(node, yaml.SequenceNode):
        data, node = data[0], node.value[0]
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        reason = "必须是一条规则（映射：id、name、category、dimension、mode、when…）"
        raise RuleFileError(PLAYGROUND_FILE, reason, line=node.start_mark.line + 1 if node is not None else 1)
    if "id" not in data:
        raise RuleFileError(PLAYGROUND_FILE, "缺少字段 id", line=node.start_mark.line + 1)
    # Validate it as rule 0 of a pack: the node tree gets the same shape, so errors point into the rule.
    mark = node.start_mark
    rules = yaml.SequenceNode("tag:yaml.org,2002:seq", [node], mark, node.end_mark)
    key = yaml.ScalarNode("tag:yaml.org,2002:str", "rules", mark, mark)
    tree = yaml.MappingNode("tag:yaml.org,2002:map", [(key, rules)], mark, node.end_mark)
    whole = {
        "kind": "ruleset",
        "id": pack.id,
        "version": pack.version,
        "name": pack.name,
        "dimensions": [d.model_dump() for d in pack.dimensions],
        "rules": [data],
        "min_confidence": pack.min_confidence,
    }
    return parse_ruleset(Path(PLAYGROUND_FILE), whole, tree)


def _dialogue_error(line: int, message: str) -> ApiError:
    return ApiError(422, "invalid_request", f"参数 dialogue 无效：第 {line} 行{message}", field="dialogue", line=line,
                    errors=[{"field": "dialogue", "message": f"第 {line} 行{message}"}])  # fmt: skip


def dialogue_transcript(text: str) -> Transcript:
    """A pasted dialogue (``坐席：…`` / ``客户：…`` lines; blank lines skipped) as a transcript. Times are made
    up: each line lasts as long as saying it at ``CHARS_PER_SECOND``, ``PAUSE_S`` apart."""
    lines = text.splitlines()
    if len(lines) > MAX_PLAYGROUND_LINES:
        raise invalid_param("dialogue", f"最多 {MAX_PLAYGROUND_LINES} 行，实际 {len(lines)} 行")
    utterances: list[Utterance] = []
    clock = 0.0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        found = _DIALOGUE_LINE.match(line)
        if found is None:
            raise _dialogue_error(number, "须以「坐席：」或「客户：」开头")
        said = found.group(2)
        if not said:
            raise _dialogue_error(number, "没有内容")
        role = _DIALOGUE_ROLES[found.group(1)]
        length = max(1.0, len(said) / CHARS_PER_SECOND)
        utterances.append(Utterance(round(clock, 3), round(clock + length, 3), role, role, said, raw_text=said))
        clock += length + PAUSE_S
    if not utterances:
        raise invalid_param("dialogue", "对话为空")
    diarization = Diarization(method="channels", role_confidence=1.0, agent_speaker="agent",
                              speakers=["agent", "customer"])  # fmt: skip
    return Transcript("（粘贴的对话）", round(clock - PAUSE_S, 3), 2, 8000, utterances, diarization)


def _utterance_index(finding: Finding, utterances: list[Utterance]) -> int | None:
    if finding.outcome != "hit" or not finding.utterance:
        return None
    for index, utt in enumerate(utterances):
        if utt.text == finding.utterance and utt.start - 1e-3 <= finding.start <= utt.end + 1e-3:
            return index
    return next((i for i, u in enumerate(utterances) if u.text == finding.utterance), None)


def _finding_out(f: Finding, utterances: list[Utterance]) -> PlaygroundFinding:
    return PlaygroundFinding(
        rule_id=f.rule_id, outcome=f.outcome, role=f.role, start=f.start, end=f.end, text=f.text,
        utterance=_utterance_index(f, utterances), points=f.points, confidence=f.confidence,
        uncertain=f.uncertain, reason=f.reason,
    )  # fmt: skip


@router.post(
    "/rulesets/playground",
    response_model=PlaygroundResult,
    summary="规则试验台：在一通已存通话或一段粘贴的对话上试运行一条规则，不保存任何数据",
    description=(
        f"规则在启用中规则集的维度内校验；YAML 不超过 {MAX_PLAYGROUND_RULE_BYTES} 字节，"
        f"对话不超过 {MAX_PLAYGROUND_LINES} 行。call_id 与 dialogue 二选一。"
    ),
)
def try_rule(body: PlaygroundRequest, principal: Anyone, state: State, session: DbSession) -> PlaygroundResult:
    if len(body.rule_yaml.encode("utf-8")) > MAX_PLAYGROUND_RULE_BYTES:
        raise invalid_param("rule_yaml", f"不能超过 {MAX_PLAYGROUND_RULE_BYTES} 字节")
    if (body.call_id is None) == (body.dialogue is None):
        raise invalid_param("call_id", "call_id 与 dialogue 须给出且只给出一个")
    if body.call_id is not None:
        call = visible_call(session, principal, body.call_id)
        transcript = load_transcript(session, call.id)
        if transcript is None:
            raise ApiError(404, "transcript_not_ready", f"通话 {call.id} 尚无转写结果（状态：{call.status}）",
                           call_id=call.id)  # fmt: skip
    else:
        assert body.dialogue is not None
        transcript = dialogue_transcript(body.dialogue)
    record, pack = _active_pack(session)
    ruleset = playground_ruleset(pack, body.rule_yaml)
    findings = evaluate(compile_ruleset(ruleset), transcript)
    utterances = sorted(transcript.recognized(), key=lambda u: (u.start, u.end))  # the order rules see
    result = PlaygroundResult(
        ruleset=ruleset_out(state, record),
        rule_id=ruleset.rules[0].id,
        source="call" if body.call_id is not None else "dialogue",
        call_id=body.call_id,
        findings=[_finding_out(f, utterances) for f in findings],
        utterances=[
            PlaygroundUtterance(index=i, role=u.role, start=round(u.start, 3), end=round(u.end, 3), text=u.text)
            for i, u in enumerate(utterances)
        ],
    )
    if body.call_id is None:
        return result  # the caller's own pasted dialogue
    # A stored call's words: personal data masked, as on every surface (the rule ran on the original text).
    return PlaygroundResult.model_validate(mask_tree(result.model_dump()))


def _dedent(chunk: str, column: int) -> str:
    lines = chunk.split("\n")
    out = [lines[0]] + [line[column:] if line[:column].strip() == "" else line.lstrip() for line in lines[1:]]
    while out and (not out[-1].strip() or out[-1].lstrip().startswith("#")):
        out.pop()
    return "\n".join(out) + "\n"


def rule_texts(files: dict[str, str]) -> dict[str, str]:
    """Rule id → the rule's text as written in the bundle's rule set files (its comments kept)."""
    out: dict[str, str] = {}
    for _, text in sorted(files.items()):
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            continue
        if not isinstance(root, yaml.MappingNode):
            continue
        rules = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "rules"), None)
        if not isinstance(rules, yaml.SequenceNode):
            continue
        for item in rules.value:
            if not isinstance(item, yaml.MappingNode):
                continue
            ids = [v.value for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value == "id"]
            if ids and isinstance(ids[0], str):
                chunk = _dedent(text[item.start_mark.index : item.end_mark.index], item.start_mark.column)
                if _stands_alone(chunk):
                    out[ids[0]] = chunk
    return out


def _stands_alone(chunk: str) -> bool:
    """Whether a rule's text parses by itself (not when it uses an alias defined elsewhere in the file)."""
    try:
        return isinstance(yaml.safe_load(chunk), dict)
    except yaml.YAMLError:
        return False


def _rule_dump(rule: Any) -> str:
    """A rule written out from its parsed form (for a rule whose text does not stand alone)."""
    data = rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return "# 由规则集展开（原文引用了文件中其他位置定义的 YAML 别名）\n" + yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False
    )


@router.get(
    "/rulesets/playground",
    response_model=PlaygroundExamples,
    summary="规则试验台：启用中规则集的规则原文（作为试验的起点）",
)
def playground_examples(_: Staff, state: State, session: DbSession) -> PlaygroundExamples:
    record, pack = _active_pack(session)
    texts = rule_texts(record.files)
    return PlaygroundExamples(
        ruleset=ruleset_out(state, record),
        dimensions=[d.id for d in pack.dimensions],
        rules=[
            PlaygroundExample(
                rule_id=rule.id,
                name=rule.name,
                yaml=texts.get(rule.id) or _rule_dump(rule),
            )
            for rule in pack.rules
        ],
    )
