// A cluster description that is missing or malformed is an error naming the
// cause, never a crash.
// RUN: not raycc-opt %s --ray-check-placement=cluster=%S/Inputs/missing.json 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not raycc-opt %s --ray-check-placement=cluster=%S/Inputs/bad-negative.json 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// RUN: not raycc-opt %s --ray-assign-placement=cluster=%S/Inputs/bad-duplicate.json 2>&1 | FileCheck %s --check-prefix=DUP
// RUN: not raycc-opt %s --ray-check-placement=cluster=%S/Inputs/bad-syntax.json 2>&1 | FileCheck %s --check-prefix=SYNTAX
// RUN: not raycc-opt %s --ray-check-placement=cluster=%S/Inputs/bad-field.json 2>&1 | FileCheck %s --check-prefix=FIELD

// MISSING: cannot read cluster description '{{.*}}missing.json'
// NEGATIVE: cluster description: nodes[0].resources.CPU: negative quantity
// DUP: cluster description: nodes[1].name: node "x" is listed twice
// SYNTAX: cluster description: not valid JSON
// FIELD: cluster description: nodes[0].gpus: unknown field

ray.graph @g() { ray.output }
