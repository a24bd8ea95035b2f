"""Commands on calls: ``inspector import`` (a PBX folder into calls, queued or processed in this
process with ``--inline``), ``retry`` (failed calls), ``reconcile`` (calls stuck after a Redis restart or
a crash) and ``status`` (calls by status).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from inspector.cli import connect
from inspector.settings import Settings
from inspector.vocab import CallStatus


def cmd_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from inspector.intake.cdr import CdrMapping, read_cdr
    from inspector.intake.filenames import conventions_for
    from inspector.intake.ingest import import_recordings
    from inspector.intake.placing import project_catalog
    from inspector.intake.scan import ImportItem, scan
    from inspector.store.blobs import LocalAudioStore

    settings = connect.settings_of(args)
    tz = ZoneInfo(settings.timezone)
    cdr = None
    if args.cdr:
        mapping = CdrMapping.parse(args.cdr_columns) if args.cdr_columns else CdrMapping()
        cdr = read_cdr(Path(args.cdr), mapping, tz)
    conventions = conventions_for(args.pattern)
    found = list(scan(Path(args.directory), glob=args.glob, conventions=conventions, cdr=cdr, tz=tz,
                      require_agent=args.agent_id is None))  # fmt: skip
    db = connect.database(settings)
    queue = None if args.no_enqueue or args.inline else connect.queue(settings)

    def enqueue(call_ids: Any) -> int:
        from inspector.service.call_job import enqueue_calls

        return enqueue_calls(db, queue, settings, call_ids)

    usable = sum(isinstance(f, ImportItem) for f in found)
    with tqdm(total=usable, unit="个", desc="导入录音", disable=args.quiet or not sys.stderr.isatty()) as bar:
        summary = import_recordings(found, db=db, audio_store=LocalAudioStore(settings.audio_store_dir), tz=tz,
                                    enqueue=None if queue is None else enqueue, default_agent=args.agent_id,
                                    team=args.team, catalog=project_catalog(settings.projects_file),
                                    progress=bar.update)  # fmt: skip
    failed_inline = _process_inline(settings, db, summary.imported, args.quiet) if args.inline else 0
    cdr_errors = [(f"{e.path}:{e.line}", e.reason) for e in (cdr.errors if cdr else [])]
    if args.format == "json":
        data = summary.to_dict()
        data["cdr_errors"] = [{"line": where, "reason": reason} for where, reason in cdr_errors]
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(f"导入完成：新增 {len(summary.imported)} 通，重复 {len(summary.duplicates)} 通（已存在，未重复登记），"
              f"跳过 {len(summary.skipped)} 个文件，CDR 错误行 {len(cdr_errors)} 行，"
              + (f"本进程处理 {len(summary.imported)} 通（失败 {failed_inline} 通）" if args.inline
                 else f"已排队 {summary.enqueued} 通"))  # fmt: skip
        for path, reason in summary.skipped:
            print(f"跳过 {path}：{reason}")
        for where, reason in cdr_errors:
            print(f"CDR {where}：{reason}")
    return 1 if summary.skipped or cdr_errors or failed_inline else 0


def _process_inline(settings: Settings, db: Any, call_ids: list[str], quiet: bool) -> int:
    """Process new calls in this process (no Redis, no worker): the embedded single-machine mode."""
    from inspector.service.call_job import process_call
    from inspector.service.context import WorkerContext, use_context
    from inspector.store.blobs import LocalAudioStore

    failed = 0
    context = WorkerContext(settings=settings, db=db, audio=LocalAudioStore(settings.audio_store_dir))
    with use_context(context):
        for number, call_id in enumerate(call_ids, 1):
            try:
                status = process_call(call_id)
            except Exception as err:  # transient: the call keeps its error; a worker or a rerun retries it
                status = f"出错（{err}）"
            failed += status != CallStatus.DONE
            if not quiet:
                print(f"[{number}/{len(call_ids)}] {call_id}: {status}", file=sys.stderr, flush=True)
    return failed


def cmd_retry(args: argparse.Namespace) -> int:
    from inspector.service.call_job import retry_calls

    settings = connect.settings_of(args)
    if not args.call_ids and not args.all_failed:
        print("错误：请给出通话编号，或使用 --all-failed 重试全部失败通话", file=sys.stderr)
        return 2
    ids = retry_calls(connect.database(settings), connect.queue(settings), settings, args.call_ids or None)
    print(f"已重新排队 {len(ids)} 通失败通话")
    for call_id in ids:
        print(call_id)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from inspector.service.reconciler import reconcile

    settings = connect.settings_of(args)
    report = reconcile(connect.database(settings), connect.queue(settings), settings)
    print(f"已重新排队 {len(report.requeued)} 通，标记失败 {len(report.failed)} 通")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from inspector.store.calls import count_by_status

    db = connect.database(connect.settings_of(args))
    with db.session() as session:
        counts = count_by_status(session)
    # Not the vocabulary's labels: "processing" reads 处理中 here (the web UI says 分析中).
    names = {CallStatus.QUEUED: "排队中", CallStatus.PROCESSING: "处理中", CallStatus.DONE: "已完成",
             CallStatus.FAILED: "失败"}  # fmt: skip
    for status, name in names.items():
        print(f"{name}\t{counts.get(status, 0)}")
    return 0


def add_import(sub: Any) -> None:
    p = sub.add_parser("import", help="从 PBX 录音目录批量导入通话并排队处理")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--cdr", default=None, metavar="FILE.csv", help="话单 CSV（按录音文件名或通话 ID 匹配）")
    p.add_argument("--cdr-columns", default=None, metavar="SPEC",
                   help="话单列映射，如 recording=录音文件,agent_id=坐席工号,caller=主叫,started_at=开始时间")
    p.add_argument("--pattern", default=None,
                   help="自定义文件名模式，如 {agent_id}_{caller}_{datetime}（可用 {agent_id} {caller} {call_id} "
                        "{direction} {date} {time} {datetime} {epoch} {*}）")  # fmt: skip
    p.add_argument("--glob", default="**/*", help="匹配的文件（默认 **/*，含子目录）")
    p.add_argument("--agent-id", default=None, help="文件名与话单都没有坐席工号时使用的工号")
    p.add_argument("--team", default=None, help="把导入通话的坐席归入该班组")
    p.add_argument("--no-enqueue", action="store_true", help="只登记，不排队处理")
    p.add_argument("--inline", action="store_true",
                   help="不经队列，在本进程内逐通转写质检入库（单机/演示用，不需要 Redis 和工作进程）")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("-q", "--quiet", action="store_true", help="不显示进度条")
    p.set_defaults(func=cmd_import)


def add_retry(sub: Any) -> None:
    p = sub.add_parser("retry", help="重新处理失败的通话")
    p.add_argument("call_ids", nargs="*", metavar="CALL_ID")
    p.add_argument("--all-failed", action="store_true", help="重试全部失败通话")
    p.set_defaults(func=cmd_retry)


def add_reconcile(sub: Any) -> None:
    p = sub.add_parser("reconcile", help="以数据库为准，重新排队卡在排队中/处理中的通话（Redis 重启或进程崩溃后）")
    p.set_defaults(func=cmd_reconcile)


def add_status(sub: Any) -> None:
    p = sub.add_parser("status", help="各状态的通话数")
    p.set_defaults(func=cmd_status)
