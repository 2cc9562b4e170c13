//===- RayTypes.td - ray dialect types ---------------------*- tablegen -*-===//

#ifndef RAYCC_IR_RAYTYPES_TD
#define RAYCC_IR_RAYTYPES_TD

include "raycc/ir/RayDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

class Ray_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Ray_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Ray_CppType : Ray_Type<"Cpp", "opaque"> {
  let summary = "a C++ value type the compiler does not look into";
  let description = [{
    A user type (`std::vector<double>`, `std::string`, a class with
    `MSGPACK_DEFINE`), named by a stable C++ spelling. Values of it are
    serialized with msgpack by the runtime; the compiler only moves them.

    Example: `!ray.opaque<"std::vector<double>">`
  }];
  let parameters = (ins StringRefParameter<"C++ type name">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
}

def Ray_RefType : Ray_Type<"Ref", "ref"> {
  let summary = "a reference to an object: the future of a value";
  let description = [{
    `!ray.ref<T>` names an object in the object store whose value has type
    `T` (a builtin integer, float, index or tensor type, or `!ray.opaque`).
    The object may not exist yet: a task that takes a ref as an argument
    starts once the object exists and receives its value.

    Example: `!ray.ref<f64>`, `!ray.ref<tensor<8xf32>>`,
    `!ray.ref<!ray.opaque<"std::vector<double>">>`
  }];
  let parameters = (ins "::mlir::Type":$elementType);
  let assemblyFormat = "`<` $elementType `>`";
  let genVerifyDecl = 1;
  let builders = [
    TypeBuilderWithInferredContext<(ins "::mlir::Type":$elementType), [{
      return $_get(elementType.getContext(), elementType);
    }]>
  ];
}

def Ray_ActorType : Ray_Type<"Actor", "actor"> {
  let summary = "a handle to an actor of a given class";
  let description = [{
    Example: `!ray.actor<"ParamServer">`. The class is a `ray.actor_class`
    symbol of the enclosing module.
  }];
  let parameters = (ins StringRefParameter<"actor class name">:$className);
  let assemblyFormat = "`<` $className `>`";
  let genVerifyDecl = 1;
}

def Ray_PlacementGroupType : Ray_Type<"PlacementGroup", "pg"> {
  let summary = "a placement group: resource bundles reserved together";
  let description = [{ Example: `!ray.pg` }];
}

def Ray_TokenType : Ray_Type<"Token", "token"> {
  let summary = "completion without a value";
  let description = [{
    A token completes when the work that produced it has finished. Tokens order
    work that shares no data (`ray.join`, void tasks, `ray.actor.kill`).
    Example: `!ray.token`
  }];
}

def Ray_AnyRef : Type<CPred<"::llvm::isa<::raycc::ray::RefType>($_self)">,
                      "ray object reference", "::raycc::ray::RefType">;
def Ray_AnyActor : Type<CPred<"::llvm::isa<::raycc::ray::ActorType>($_self)">,
                        "ray actor handle", "::raycc::ray::ActorType">;
def Ray_PG : Type<CPred<"::llvm::isa<::raycc::ray::PlacementGroupType>($_self)">,
                  "ray placement group", "::raycc::ray::PlacementGroupType">,
             BuildableType<"::raycc::ray::PlacementGroupType::get($_builder.getContext())">;
def Ray_Token : Type<CPred<"::llvm::isa<::raycc::ray::TokenType>($_self)">,
                     "ray token", "::raycc::ray::TokenType">,
                BuildableType<"::raycc::ray::TokenType::get($_builder.getContext())">;
def Ray_RefOrToken : AnyTypeOf<[Ray_AnyRef, Ray_Token]>;

#endif // RAYCC_IR_RAYTYPES_TD
