"""The paper's zero-shot prompt templates (``eval_scripts/prompt_collection.py`` of
sail-sg/symbolic-instruction-tuning) and the few-shot formats of BBH and MMLU.

Table templates have two slots, ``{table}`` (the table linearized with
``symjax.sql.text.linearize(table, style="indexed")``) and ``{question}``; SVAMP templates have
``{question}``. The paper's templates are Jinja; a ``{{ answer }}`` slot in two of them
rendered empty and is written here as the empty string it produced. The SVAMP list of the
paper has 18 strings but a missing comma joins two of them, so 17 templates are effective;
they are kept exactly as the paper used them (the joined one has two question slots).

Slots are filled with :func:`render` (plain replacement: a table's own braces are safe).
"""
from __future__ import annotations

import re
from typing import Mapping

from symjax.errors import ConfigError

__all__ = [
    "TEMPLATES",
    "TABLE_BENCHMARKS",
    "render",
    "template",
    "num_templates",
    "bbh_prompt",
    "parse_bbh_shots",
    "mmlu_prompt",
    "mmlu_question",
    "MMLU_CHOICES",
]

TABLE_BENCHMARKS = ("wtq", "wikisql", "sqa", "tabfact")

_WTQ = (
    "[Table] {table} [/Table] Answer this question based on the above table: {question}",
    "[ {table} ] Answer this question based on the above table: {question}",
    "Here is a table: {table}. Answer the following question: {question}",
    "Answer the question {question} based on the following table: {table}",
    "{table}\nAnswer this question: {question}",
    "Read this table and answer this question {table}\n{question}",
    "Based on the data provided in {table}, what is the value of {question}?",
    "Using {table}, answer the following question: {question}.",
    "Answer the question below using the data in {table}: {question}.",
    "Using the information in {table}, what is the answer of {question}?",
)

_WIKISQL = (
    "<table> {table} </table> Answer this question based on the above table: {question}",
    "[Table] {table} [/Table] Answer this question based on the above table: {question}",
    "[ {table} ] Answer this question based on the above table: {question}",
    "Please answer a question about the following table \n\n{table}\n\n{question}",
    "Here is a table: {table}. Answer the following question: {question}",
    "Answer the question {question} based on the following table: {table}",
    "{table}\n\n{question}",
    "{table}\nAnswer this question: {question}",
    "Read this table and answer this question {table}\n{question}",
    # the paper's "{{ answer }}" slot rendered empty
    "What conclusions can be drawn about {question} from the information presented in {table}? ",
)

_SQA = (
    "[ {table} ] Answer the following dialogue based on the above table: {question}",
    "[ {table} ] Answer this question based on the above table: {question}",
    "<table> {table} </table> Answer the following question based on the above table: {question}",
    "Please answer a question about the following table \n\n{table}\n\n{question}",
    "Read this and answer the question\n\n{table}\n\n{question}",
    "[ {table} ] Read the dialog and predict the answer of the last question: {question}",
    "[ {table} ] After reading the above table, can you answer the following questions: {question}",
    "[ {table} ] {question}",
    "Answer the question below using the data in {table}: {question}",
    "Using the information in {table}, what is the answer of {question}?",
)

_TABFACT = (
    'Table:\n{table}\nClaim: "{question}" Is the claim entailed by the Table? Options: - yes - no. The answer is',
    'Examine the provided table below: {table} A claim has been made: "{question}". Based on the '
    "information in the table, can we determine if this claim is accurate? Please select one of the "
    "following options: - yes - no. The correct response is:",
    "[ {table} ] Verify this claim based on the above table: {question}. Options: - yes - no. The answer is",
    "Here is a table: {table}. Someone has stated that {question}. Does the table support this "
    "statement? Please choose either: - yes - no. The answer is:",
    'Consider the information provided in this table: {table} The claim "{question}" has been made. '
    'Does the table entail this claim? Choose your answer from the options "yes" or "no". The answer is:',
    'Observe the following table: {table}\n\nThere is a claim stating "{question}." Can we determine '
    "if this claim is valid based on the information in the table? Please select one of these "
    "options: - yes - no. The answer is:",
    '"{question}" is a claim being made. Considering the information in the table provided below, can '
    'we verify the correctness of this claim? {table} Choose your answer from the options "yes" or '
    '"no". The answer is:',
    "Read this table and verify the following claim:\n {table}\n{question} You can choose from the "
    "following options: - yes - no. The answer is:",
    "Based on the data provided in {table}, what is the correctness of {question}? Options: * yes * no. The answer is",
    'A claim suggests that "{question}" Refer to the table given below and determine if this claim is '
    "justified based on the information present: {table} Options: - yes - no. The answer is",
)

_SVAMP = (
    "Question: {question}?\nAnswer:",
    "{question}?",
    "Answer the following question:\n\n{question}",
    "Answer this question:\n\n{question}?",
    "Please answer this question: {question}",
    "Answer the question...{question}?",
    # the paper's "{{ answer }}" slot rendered empty
    "What is the answer to this question? {question}\n\n",
    "Can you tell me the answer to {question}?",
    "Q: {question} A:",
    "Solve this math problem\n\n{question}",
    "What is the solution?\n\n{question}",
    "Math Problem\n{question}",
    # two strings of the paper joined by a missing comma
    "Write down the solution for this math problem: {question}What is the solution to this math problem?\n{question}",
    "Math problem: {question}\nWhat is the solution?",
    "{question}\nSolve this problem.",
    "Problem: {question}\nAnd the answer is",
    "{question}. What is the answer?",
)

TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "wtq": _WTQ,
    "wikisql": _WIKISQL,
    "sqa": _SQA,
    "tabfact": _TABFACT,
    "svamp": _SVAMP,
}


def template(benchmark: str, index: int) -> str:
    """Template ``index`` of ``benchmark``; an unknown name or index lists the valid ones."""
    if benchmark not in TEMPLATES:
        raise ConfigError(f"no prompt templates for {benchmark!r}; benchmarks with templates: {sorted(TEMPLATES)}")
    options = TEMPLATES[benchmark]
    if not isinstance(index, int) or not 0 <= index < len(options):
        raise ConfigError(f"{benchmark} has templates 0..{len(options) - 1}, not {index!r}")
    return options[index]


def num_templates(benchmark: str) -> int:
    return len(TEMPLATES[benchmark]) if benchmark in TEMPLATES else 1


def render(text: str, **slots: str) -> str:
    """Fill ``{name}`` slots in one pass (no ``str.format``: tables hold braces, and a
    table that contains ``{question}`` must stay as it is)."""
    if not slots:
        return text
    pattern = re.compile("\\{(" + "|".join(re.escape(k) for k in slots) + ")\\}")
    return pattern.sub(lambda m: slots[m.group(1)], text)


# ---------------------------------------------------------------------------- BBH
def parse_bbh_shots(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``(task description, [(question, answer), ...])`` from a BBH ``cot-prompts/<task>.txt``.

    The file is a description line, then exemplars ``Q: ...`` / ``A: ...`` separated by blank
    lines (an optional canary header ends at a ``-----`` line). The chain of thought is
    dropped: the answer is the text after the last ``So the answer is`` (final period
    removed), as in BBH's answer-only prompts.
    """
    if "-----" in text:
        text = text.split("-----")[-1]
    text = text.strip("\n")
    first_q = text.find("Q: ")
    if first_q < 0:
        raise ValueError("no 'Q: ' exemplar found")
    description = text[:first_q].strip()
    shots = []
    for block in text[first_q:].split("\n\nQ: "):
        block = block[3:] if block.startswith("Q: ") else block
        q, sep, a = block.partition("\nA: ")
        if not sep:
            raise ValueError(f"exemplar without an 'A: ' line: {block[:80]!r}")
        marker = "So the answer is "
        if marker in a:
            a = a.rsplit(marker, 1)[1].strip()
            if a.endswith("."):
                a = a[:-1]
        shots.append((q.strip(), a.strip()))
    return description, shots


def bbh_prompt(description: str, shots: list[tuple[str, str]], question: str) -> str:
    """BBH answer-only few-shot prompt, as the paper (``bbh_constants.py``):
    ``{description}\\n\\nQ: {q1}\\nA: {a1}\\n\\n...Q: {question}\\nA:``."""
    parts = [description] if description else []
    parts += [f"Q: {q}\nA: {a}" for q, a in shots]
    parts.append(f"Q: {question}\nA:")
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------- MMLU
MMLU_CHOICES = ("A", "B", "C", "D")


def mmlu_question(question: str, options: list[str], answer: str | None = None) -> str:
    """One MMLU question as hendrycks/test ``format_example``: the question, ``\\nA. ...``
    per option, ``\\nAnswer:``, and for a shot `` {letter}\\n\\n``."""
    text = question + "".join(f"\n{letter}. {opt}" for letter, opt in zip(MMLU_CHOICES, options))
    text += "\nAnswer:"
    if answer is not None:
        text += f" {answer}\n\n"
    return text


def mmlu_prompt(subject: str, shots: list[tuple[str, list[str], str]], question: str, options: list[str]) -> str:
    """The MMLU k-shot prompt of hendrycks/test ``gen_prompt`` (its ``format_subject``
    puts a space before every word, hence the double space after ``about``)."""
    subject_text = "".join(" " + w for w in subject.split("_"))
    head = f"The following are multiple choice questions (with answers) about {subject_text}.\n\n"
    return head + "".join(mmlu_question(q, o, a) for q, o, a in shots) + mmlu_question(question, options)
