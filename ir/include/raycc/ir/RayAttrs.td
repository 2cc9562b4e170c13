//===- RayAttrs.td - ray dialect attributes ----------------*- tablegen -*-===//

#ifndef RAYCC_IR_RAYATTRS_TD
#define RAYCC_IR_RAYATTRS_TD

include "raycc/ir/RayDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Ray_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Ray_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Ray_PlacementStrategy : I32EnumAttr<"PlacementStrategy",
    "how the bundles of a placement group are spread over nodes", [
      I32EnumAttrCase<"pack", 0>,
      I32EnumAttrCase<"spread", 1>,
      I32EnumAttrCase<"strict_pack", 2>,
      I32EnumAttrCase<"strict_spread", 3>
    ]> {
  let cppNamespace = "::raycc::ray";
  let genSpecializedAttr = 0;
}

def Ray_PlacementStrategyAttr
    : EnumAttr<Ray_Dialect, Ray_PlacementStrategy, "pg_strategy"> {
  let summary = "placement-group strategy";
  let description = [{
    `pack` (few nodes, best effort), `spread` (distinct nodes, best effort),
    `strict_pack` (one node or fail), `strict_spread` (a node per bundle or
    fail). Example: `#ray.pg_strategy<strict_spread>`
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Ray_SchedulingKind : I32EnumAttr<"SchedulingKind",
    "how the scheduler chooses a node", [
      I32EnumAttrCase<"default_", 0, "default">,
      I32EnumAttrCase<"spread", 1>,
      I32EnumAttrCase<"node_affinity", 2>,
      I32EnumAttrCase<"placement_group", 3>
    ]> {
  let cppNamespace = "::raycc::ray";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Ray_ResourcesAttr : Ray_Attr<"Resources", "resources"> {
  let summary = "a set of resource quantities, in fixed point";
  let description = [{
    Named resource quantities with the runtime's resolution of 1/10000 (so
    0.5 GPU is exact). Names are bare identifiers or quoted strings matching
    `[A-Za-z_][A-Za-z0-9_.:/-]*`; quantities are non-negative, finite and at
    most 1e14. Zero quantities are dropped.

    Example: `#ray.resources<{CPU = 1.0, GPU = 0.5, "custom" = 2.0}>`
  }];
  // name -> IntegerAttr (i64) holding the quantity in 1/10000 units.
  let parameters = (ins "::mlir::DictionaryAttr":$units);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Units per whole resource.
    static constexpr int64_t kScale = 10000;
    /// Builds from (name, quantity in units) pairs; zeros are dropped.
    static ResourcesAttr getFromUnits(
        ::mlir::MLIRContext *ctx,
        ::llvm::ArrayRef<std::pair<::llvm::StringRef, int64_t>> units);
    /// The quantity of `name` in units; 0 when absent.
    int64_t getUnitsOf(::llvm::StringRef name) const;
    /// True when no resource is named.
    bool empty() const { return getUnits().empty(); }
    /// True when every quantity here is at most the one in `capacity`.
    bool fitsIn(ResourcesAttr capacity) const;
    /// Element-wise sum.
    ResourcesAttr plus(ResourcesAttr other) const;
    /// "{CPU = 1.0, GPU = 0.5}", as printed in the attribute.
    std::string str() const;
    /// A quantity in units as a decimal with at least one fractional digit:
    /// 10000 -> "1.0", 5000 -> "0.5".
    static std::string formatQuantity(int64_t units);
    /// Checks a resource name; on failure returns a message.
    static std::optional<std::string> checkName(::llvm::StringRef name);
    /// Converts a quantity to units; on failure returns a message.
    static ::llvm::FailureOr<int64_t> toUnits(double value, std::string &error);
  }];
}

def Ray_SchedulingStrategyAttr : Ray_Attr<"SchedulingStrategy", "strategy"> {
  let summary = "how the scheduler chooses a node for a task or actor";
  let description = [{
    - `#ray.strategy<default>`: any node that fits, local first;
    - `#ray.strategy<spread>`: spread over nodes;
    - `#ray.strategy<node_affinity "node-1">` (hard) or
      `#ray.strategy<node_affinity "node-1" soft>`: pinned to a node of the
      cluster description, falling back elsewhere only when soft;
    - `#ray.strategy<placement_group bundle 1>`, or
      `#ray.strategy<placement_group>` for any bundle: inside the placement
      group given by the op's `in %pg` operand.
  }];
  let parameters = (ins
    "SchedulingKind":$kind,
    "::mlir::StringAttr":$node,
    "bool":$soft,
    "int64_t":$bundleIndex
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// `#ray.strategy<default>`.
    static SchedulingStrategyAttr getDefault(::mlir::MLIRContext *ctx);
    /// `#ray.strategy<placement_group bundle N>` (-1: any bundle).
    static SchedulingStrategyAttr getPlacementGroup(::mlir::MLIRContext *ctx,
                                                    int64_t bundleIndex);
  }];
}

def Ray_PlacementAttr : Ray_Attr<"Placement", "placement"> {
  let summary = "where a compiler pass placed an op";
  let description = [{
    The node of the cluster description (and, for work inside a placement
    group, the bundle) that `ray-assign-placement` chose. The runtime honours
    it while the node is alive.

    Example: `#ray.placement<node = "node-1", bundle = 0>`,
    `#ray.placement<node = "node-2">`
  }];
  let parameters = (ins
    StringRefParameter<"node name">:$node,
    DefaultValuedParameter<"int64_t", "-1">:$bundle
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Ray_CostAttr : Ray_Attr<"Cost", "cost"> {
  let summary = "optional cost hints for the passes";
  let description = [{
    Estimated duration and result size; zero means unknown. Passes use them to
    find the critical path, to decide what to fuse and to keep large objects
    on one node.

    Example: `#ray.cost<duration_us = 1500, result_bytes = 4096>`
  }];
  let parameters = (ins
    DefaultValuedParameter<"uint64_t", "0">:$duration_us,
    DefaultValuedParameter<"uint64_t", "0">:$result_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // RAYCC_IR_RAYATTRS_TD
