#!/usr/bin/env python3
"""The rule -O levels keep: a program that places at -O0 places at -O1 and
-O2 too (the optimizations never turn a feasible program into a compile
error).

Generates random graphs (seeded, deterministic) with what the -O2 passes
act on -- actor gangs, large-object fan-outs, work asked to spread, tasks
with resources, user placement groups -- and, against a small cluster,
compiles each at -O0, -O1 and -O2 with raycc-opt, each followed by the
placement check and assignment (as -O2 runs them).
Prints one line per violation and a summary; exits 1 on any violation, or
when too few graphs place at -O0 for the test to mean anything.

    opt_levels_place.py RAYCC_OPT CLUSTER.json WORK_DIR [COUNT]
"""
import os
import random
import subprocess
import sys


def graph_text(rng, index):
    lines = [
        "ray.remote_func @Make : (i64) -> i64",
        "ray.remote_func @Big : (i64) -> i64 {cost = #ray.cost<result_bytes = 134217728>}",
        "ray.remote_func @Use : (i64) -> i64",
        "ray.remote_func @Heavy : (i64) -> i64 resources {CPU = 3}",
        "ray.actor_class @Stage : () -> () { ray.actor_method @step : (i64) -> i64 }",
        "ray.actor_class @Holder : () -> () attributes {resources = #ray.resources<{CPU = 1}>} "
        "{ ray.actor_method @step : (i64) -> i64 }",
        f"ray.graph @g{index}(%x: i64) -> !ray.ref<i64> {{",
    ]
    values = ["%x"]  # i64 or !ray.ref<i64>, by name
    refs = []
    counter = [0]

    def fresh():
        counter[0] += 1
        return f"%v{counter[0]}"

    def arg():
        name = rng.choice(values)
        return name, ("i64" if name == "%x" else "!ray.ref<i64>")

    def strategy():
        return rng.choice(["", "", "", " {strategy = #ray.strategy<spread>}"])

    # Actors first (some holding a CPU each: sometimes more than fit).
    actors = []
    calls = []  # results of actor calls: what chains actors into gangs
    for _ in range(rng.randint(0, 9)):
        name = fresh()
        cls = rng.choice(["Stage", "Holder", "Holder"])
        lines.append(f'  {name} = ray.actor.create @{cls}() : () -> !ray.actor<"{cls}">')
        actors.append((name, cls))
    # A user group now and then.
    if rng.random() < 0.3:
        pg = fresh()
        lines.append(f'  {pg} = ray.placement_group pack "mine" {{ ray.bundle {{CPU = 1}} ray.bundle {{CPU = 1}} }}')
        in_pg = pg
    else:
        in_pg = None
    for _ in range(rng.randint(3, 14)):
        kind = rng.random()
        result = fresh()
        if kind < 0.35 and actors:
            actor, cls = rng.choice(actors)
            a, t = (rng.choice(calls), "!ray.ref<i64>") if calls and rng.random() < 0.7 else arg()
            lines.append(f'  {result} = ray.actor.call {actor} @step({a}) : !ray.actor<"{cls}">, ({t}) -> !ray.ref<i64>')
            calls.append(result)
        elif kind < 0.45:
            a, t = arg()
            lines.append(f"  {result} = ray.task @Big({a}){strategy()} : ({t}) -> !ray.ref<i64>")
            # A fan-out of consumers, wider than a node sometimes.
            values.append(result)
            refs.append(result)
            for _ in range(rng.randint(1, 12)):
                consumer = fresh()
                fn = rng.choice(["Use", "Use", "Heavy"])
                lines.append(f"  {consumer} = ray.task @{fn}({result}){strategy()} : (!ray.ref<i64>) -> !ray.ref<i64>")
                values.append(consumer)
                refs.append(consumer)
            continue
        elif kind < 0.55 and in_pg is not None:
            a, t = arg()
            lines.append(f"  {result} = ray.task @Use({a}) in {in_pg} {{strategy = #ray.strategy<placement_group bundle 0>}}"
                         f" : ({t}) -> !ray.ref<i64>")
        else:
            fn = rng.choice(["Make", "Use", "Heavy"])
            a, t = arg()
            lines.append(f"  {result} = ray.task @{fn}({a}){strategy()} : ({t}) -> !ray.ref<i64>")
        values.append(result)
        refs.append(result)
    out = refs[-1] if refs else None
    if out is None:
        out = fresh()
        lines.append(f"  {out} = ray.task @Make(%x) : (i64) -> !ray.ref<i64>")
    lines.append(f"  ray.output {out} : !ray.ref<i64>")
    lines.append("}")
    return "\n".join(lines) + "\n"


def places(raycc_opt, path, level, cluster, out=None):
    # "Places": the level's pipeline, then the checks and the assignment
    # (which -O2 runs itself) against the cluster.
    pipeline = f"--ray-compile=opt-level={level} cluster={cluster}"
    cmd = [raycc_opt, path, pipeline]
    if level < 2:
        cmd += [f"--ray-check-placement=cluster={cluster}", f"--ray-assign-placement=cluster={cluster}"]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out is not None:
        out.append(run.stdout)
    return run.returncode == 0, run.stderr.strip()


def main():
    raycc_opt, cluster, work = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    os.makedirs(work, exist_ok=True)
    rng = random.Random(20261207)
    placed = violations = grouped = 0
    for i in range(count):
        path = os.path.join(work, f"g{i}.mlir")
        with open(path, "w") as f:
            f.write(graph_text(rng, i))
        ok0, why0 = places(raycc_opt, path, 0, cluster)
        if not ok0:
            continue
        placed += 1
        for level in (1, 2):
            printed = []
            ok, why = places(raycc_opt, path, level, cluster, printed)
            grouped += level == 2 and "ray.synthesized" in printed[0]
            if not ok:
                violations += 1
                print(f"VIOLATION: {path} places at -O0 but not at -O{level}: {why.splitlines()[0] if why else ''}")
    print(f"{count} graphs, {placed} place at -O0, {violations} violations")
    # (The check means something only when -O2 changed some of them, and
    # the cluster was tight for some.)
    print(f"{grouped} got an actor gang at -O2")
    if placed < count // 3 or placed == count or grouped < count // 10:
        print("the generated graphs do not exercise the rule: adjust the generator")
        return 1
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
