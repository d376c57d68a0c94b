"""Data preparation, majority baseline and result tables of the all-MiniLM-L6-v2 experiment
(scripts/run-minilm-experiment runs it; Python standard library only).

    python3 scripts/minilm_experiment.py prepare SHARED_DATA WORK_DATA [--test-examples N] [--seen T,T,...] [--unseen T,T,...]
    python3 scripts/minilm_experiment.py majority WORK_DATA RUNS IPT_CLI
    python3 scripts/minilm_experiment.py table WORK_DATA RUNS OUTPUT.md

prepare: WORK_DATA mirrors the CrossFit folder: train/dev files of every task and seed are symbolic
links; each test file is a uniform random sample (seed 0, the same lines for every seed's file) of
at most N lines (default 100), so that every method is scored on the same test examples at a
tenth of the cost; splits/cls.json lists only the tasks present (dbpedia_14 is absent), and, with
--seen/--unseen, only those of its training/unseen tasks (a reduced run).

majority: per task, the most frequent answer of the seed-100 training sample (ties: the first in
the task's option order) predicted for every test example, scored with `ipt-cli score`; written to
RUNS/majority/<task>.json.

table: reads every run's results.json and writes the markdown tables of Docs/results-minilm.md.
"""
import collections
import json
import os
import random
import subprocess
import sys

METHODS = [
    # (column, run folder relative to RUNS, how to read the test score)
    ("majority", "majority", "majority"),
    ("PT", "pt", "single"),
    ("MSF d=5", "msf-5", "msf"),
    ("MSF d=10", "msf-10", "msf"),
    ("MSF d=100", "msf-100", "msf"),
    ("IST d=5", "ist-5", "single"),
    ("IST d=10", "ist-10", "single"),
    ("IST d=100", "ist-100", "single"),
    ("random d=100", "random-100", "single"),
    ("Fastfood d=100", "fastfood-100", "single"),
    ("stage two", "stage-two", "single"),
]


def read_lines(path):
    data = open(path, "rb").read().decode("utf-8").split("\n")
    if data and data[-1] == "":
        data.pop()
    return data


def prepare(shared, work, test_examples, seen=None, unseen=None):
    shared, work = os.path.abspath(shared), os.path.abspath(work)
    os.makedirs(os.path.join(work, "splits"), exist_ok=True)
    catalog = json.load(open(os.path.join(shared, "tasks.json")))
    for name in ["tasks.json", "README.md"]:
        link = os.path.join(work, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(shared, name), link)
    present = set()
    for task in sorted(os.listdir(shared)):
        source = os.path.join(shared, task)
        if not os.path.isdir(source) or task == "splits" or task not in catalog:
            continue
        present.add(task)
        target = os.path.join(work, task)
        os.makedirs(target, exist_ok=True)
        chosen = None
        for name in sorted(os.listdir(source)):
            destination = os.path.join(target, name)
            if not name.endswith("_test.tsv"):
                if not os.path.lexists(destination):
                    os.symlink(os.path.join(source, name), destination)
                continue
            lines = read_lines(os.path.join(source, name))
            if chosen is None:
                chosen = sorted(random.Random(0).sample(range(len(lines)), min(test_examples, len(lines))))
            with open(destination, "w", encoding="utf-8") as f:
                f.write("".join(lines[i] + "\n" for i in chosen))
    split = json.load(open(os.path.join(shared, "splits", "cls.json")))
    kept = {part: [t for t in tasks if t in present] for part, tasks in split.items()}
    for part, chosen_tasks in [("train", seen), ("dev", seen), ("test", unseen)]:
        if chosen_tasks is not None:
            unknown = sorted(set(chosen_tasks) - set(kept[part]))
            if unknown:
                sys.exit(f"prepare: {unknown} are not {part} tasks of the classification split present in {shared}")
            kept[part] = [t for t in kept[part] if t in chosen_tasks]
    kept["all"] = [t for t in kept["all"] if t in kept["train"] + kept["test"]]
    json.dump(kept, open(os.path.join(work, "splits", "cls.json"), "w"), indent=1)
    missing = sorted(set(split["all"]) - present)
    print(f"prepare: {len(kept['train'])} training and {len(kept['test'])} unseen tasks; absent: {missing}")


def majority(work, runs, cli):
    split = json.load(open(os.path.join(work, "splits", "cls.json")))
    catalog = json.load(open(os.path.join(work, "tasks.json")))
    out = os.path.join(runs, "majority")
    os.makedirs(out, exist_ok=True)
    for task in split["train"] + split["test"]:
        test = os.path.join(work, task, f"{task}_16_100_test.tsv")
        if not os.path.exists(test):
            continue
        answers = [line.split("\t")[1] for line in read_lines(os.path.join(work, task, f"{task}_16_100_train.tsv"))]
        counts = collections.Counter(answers)
        options = catalog[task]["options"]
        best = max(options, key=lambda o: (counts[o], -options.index(o)))
        predictions = os.path.join(out, f"{task}.predictions")
        with open(predictions, "w", encoding="utf-8") as f:
            f.write((best + "\n") * len(read_lines(test)))
        report = json.loads(subprocess.check_output([cli, "score", "--task", task, "--predictions", predictions,
                                                     "--references", test]))
        report["prediction"] = best
        json.dump(report, open(os.path.join(out, f"{task}.json"), "w"))


def test_scores(runs, folder, kind):
    """task -> test score of one method."""
    scores = {}
    root = os.path.join(runs, folder)
    if not os.path.isdir(root):
        return scores
    if kind == "majority":
        for name in os.listdir(root):
            if name.endswith(".json"):
                scores[name[:-5]] = json.load(open(os.path.join(root, name)))["score"]
    elif kind == "msf":
        path = os.path.join(root, "results.json")
        if os.path.exists(path):
            for t in json.load(open(path))["tasks"]:
                scores[t["task"]] = t.get("test")
    else:
        for task in os.listdir(root):
            path = os.path.join(root, task, "results.json")
            if os.path.exists(path):
                scores[task] = json.load(open(path))["tasks"][0].get("test")
    return scores


def seconds(runs, folder):
    total, count = 0.0, 0
    root = os.path.join(runs, folder)
    paths = [os.path.join(root, "results.json")] + [os.path.join(root, t, "results.json") for t in
                                                     (os.listdir(root) if os.path.isdir(root) else [])]
    for path in paths:
        if os.path.exists(path):
            total += json.load(open(path)).get("seconds", 0)
            count += 1
    return total, count


def table(work, runs, output):
    split = json.load(open(os.path.join(work, "splits", "cls.json")))
    catalog = json.load(open(os.path.join(work, "tasks.json")))
    scores = {column: test_scores(runs, folder, kind) for column, folder, kind in METHODS}
    pt = scores["PT"]

    def cell(x):
        return "—" if x is None else f"{100 * x:.1f}"

    lines = []
    for title, part in [("Seen (training) tasks", "train"), ("Unseen tasks", "test")]:
        lines += [f"#### {title}", "", "| task | metric | " + " | ".join(c for c, _, _ in METHODS) + " |",
                  "|---|---|" + "---:|" * len(METHODS)]
        for task in split[part]:
            lines.append(f"| {task} | {catalog[task]['metric']} | "
                         + " | ".join(cell(scores[c].get(task)) for c, _, _ in METHODS) + " |")
        lines.append("")

    lines += ["#### Averages and relative performance", "",
              "Mean test score (×100) over the tasks that have a test set and a score for every method shown; "
              "relative performance = mean over those tasks of score / PT score, for tasks whose PT score is "
              "positive (the paper's E_rel^PT, as far as it can be reconstructed), and, in brackets, mean score / "
              "mean PT score.", "",
              "| tasks | n | " + " | ".join(c for c, _, _ in METHODS) + " |", "|---|---:|" + "---:|" * len(METHODS)]
    for title, part in [("seen", "train"), ("unseen", "test")]:
        tasks = [t for t in split[part] if all(scores[c].get(t) is not None for c, _, _ in METHODS)]
        if not tasks:
            continue
        means = [sum(scores[c][t] for t in tasks) / len(tasks) for c, _, _ in METHODS]
        lines.append(f"| {title}: mean | {len(tasks)} | " + " | ".join(f"{100 * m:.1f}" for m in means) + " |")
        positive = [t for t in tasks if pt[t] > 0]
        relative = []
        for (c, _, _), m in zip(METHODS, means):
            ratio = sum(scores[c][t] / pt[t] for t in positive) / len(positive)
            relative.append(f"{100 * ratio:.0f} % ({100 * m / means[1]:.0f} %)")
        lines.append(f"| {title}: relative to PT | {len(positive)} | " + " | ".join(relative) + " |")
    lines += ["", "#### Run times (wall clock, from results.json)", "", "| method | runs | total minutes |", "|---|---:|---:|"]
    for column, folder, kind in METHODS[1:]:
        total, count = seconds(runs, folder)
        lines.append(f"| {column} | {count} | {total / 60:.0f} |")
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {output}")


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "prepare":
        def value(flag):
            return args[args.index(flag) + 1] if flag in args else None

        def tasks(flag):
            return value(flag).split(",") if value(flag) else None

        prepare(args[0], args[1], int(value("--test-examples") or 100), tasks("--seen"), tasks("--unseen"))
    elif command == "majority":
        majority(*args)
    elif command == "table":
        table(*args)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
