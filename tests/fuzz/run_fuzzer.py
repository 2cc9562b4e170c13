#!/usr/bin/env python3
"""Runs a libFuzzer binary in a fresh work folder: run_fuzzer.py FUZZER WORKDIR [FLAGS...] -- SEED_DIRS...

The corpus the run grows and any crash input stay in WORKDIR (crash-* files),
so a failure leaves its reproducer behind.
"""
import os
import shutil
import subprocess
import sys


def main():
    fuzzer, work = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    split = rest.index("--")
    flags, seeds = rest[:split], rest[split + 1:]
    shutil.rmtree(work, ignore_errors=True)
    corpus = os.path.join(work, "corpus")
    os.makedirs(corpus)
    cmd = [fuzzer, f"-artifact_prefix={work}/", *flags, corpus, *seeds]
    print("running:", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = proc.stdout.splitlines()
    done = [l for l in lines if l.startswith("Done ")]
    print("\n".join(lines[-40:] if proc.returncode else done))
    if proc.returncode != 0:
        print(f"fuzzer failed with exit code {proc.returncode}; inputs in {work}")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
