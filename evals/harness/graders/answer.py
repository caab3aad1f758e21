"""`answer`: what the final answer must and must not say (case-insensitive)."""

from __future__ import annotations

import re
from typing import Any

from evals.harness.graders import Grader, Verdict, register
from evals.harness.graders._params import mapping, str_list
from evals.harness.trace import Trace

KEYS = {"must_mention", "must_mention_any", "must_not_mention", "regex", "not_regex"}


@register
class AnswerGrader(Grader):
    name = "answer"

    @classmethod
    def validate(cls, params: Any) -> None:
        p = mapping(params, KEYS, "answer")
        if not p:
            raise ValueError("answer needs at least one of " + ", ".join(sorted(KEYS)))
        for k in KEYS:
            for pattern in str_list(p.get(k), k) if k in ("regex", "not_regex") else []:
                try:
                    re.compile(pattern)
                except re.error as e:
                    raise ValueError(f"{k}: bad regex {pattern!r}: {e}") from None
            str_list(p.get(k), k)

    @classmethod
    def grade(cls, params: Any, trace: Trace) -> Verdict:
        p = mapping(params, KEYS, "answer")
        text = (trace.answer or "").lower()
        problems = [f"does not mention {w!r}" for w in str_list(p.get("must_mention"), "") if w.lower() not in text]
        anyof = str_list(p.get("must_mention_any"), "")
        if anyof and not any(w.lower() in text for w in anyof):
            problems.append(f"mentions none of {anyof}")
        problems += [f"mentions {w!r}" for w in str_list(p.get("must_not_mention"), "") if w.lower() in text]
        problems += [f"does not match /{r}/" for r in str_list(p.get("regex"), "")
                     if not re.search(r, trace.answer or "", re.I | re.S)]
        problems += [f"matches /{r}/" for r in str_list(p.get("not_regex"), "")
                     if re.search(r, trace.answer or "", re.I | re.S)]
        return Verdict(not problems, "; ".join(problems) or "answer checks hold")
