// Every wire message survives serialize -> parse unchanged, with every field
// set. Messages are enumerated from the generated descriptors, so a message
// added to proto/ is covered without touching this file.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "raycc/proto/artifact.pb.h"
#include "raycc/proto/common.pb.h"
#include "raycc/proto/exec_plan.pb.h"
#include "raycc/proto/gcs_service.grpc.pb.h"
#include "raycc/proto/job_service.grpc.pb.h"
#include "raycc/proto/placement_group.pb.h"
#include "raycc/proto/raylet_service.grpc.pb.h"
#include "raycc/proto/task.pb.h"
#include "raycc/proto/worker_service.grpc.pb.h"
#include "raycc/runtime/common/id.h"
#include "raycc/runtime/common/resource_set.h"

namespace raycc {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// One message of each file: naming its default instance links the file's
// descriptor into the generated pool (a static library drops unused objects).
const std::vector<std::string>& ProtoFiles() {
  static const std::vector<std::string> files = {
      proto::ResourceSet::default_instance().GetDescriptor()->file()->name(),
      proto::TaskSpec::default_instance().GetDescriptor()->file()->name(),
      proto::PlacementGroupSpec::default_instance().GetDescriptor()->file()->name(),
      proto::ExecPlan::default_instance().GetDescriptor()->file()->name(),
      proto::NodeInfo::default_instance().GetDescriptor()->file()->name(),
      proto::RequestWorkerLeaseRequest::default_instance().GetDescriptor()->file()->name(),
      proto::PushTaskRequest::default_instance().GetDescriptor()->file()->name(),
      proto::Artifact::default_instance().GetDescriptor()->file()->name(),
      proto::StartJobRequest::default_instance().GetDescriptor()->file()->name()};
  return files;
}

void CollectMessages(const Descriptor* d, std::vector<const Descriptor*>* out) {
  if (d->options().map_entry()) return;
  out->push_back(d);
  for (int i = 0; i < d->nested_type_count(); ++i) CollectMessages(d->nested_type(i), out);
}

std::vector<const Descriptor*> AllMessages() {
  std::vector<const Descriptor*> out;
  for (const std::string& name : ProtoFiles()) {
    const auto* file = google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name;
    if (file == nullptr) continue;
    for (int i = 0; i < file->message_type_count(); ++i) CollectMessages(file->message_type(i), &out);
  }
  return out;
}

// Sets one value of `field` (the `n`-th, for repeated fields) to something
// other than its default.
void SetOne(Message* m, const FieldDescriptor* f, int n, int depth);

void Fill(Message* m, int depth) {
  const Descriptor* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->message_type() != nullptr && depth >= 3) continue;
    int count = f->is_repeated() ? 2 : 1;
    for (int n = 0; n < count; ++n) SetOne(m, f, n, depth);
  }
}

void SetOne(Message* m, const FieldDescriptor* f, int n, int depth) {
  const Reflection* r = m->GetReflection();
  bool rep = f->is_repeated();
  int v = n + 1 + f->number();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      rep ? r->AddInt32(m, f, -v) : r->SetInt32(m, f, -v);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      rep ? r->AddInt64(m, f, -int64_t{v} << 33) : r->SetInt64(m, f, -int64_t{v} << 33);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      rep ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      rep ? r->AddUInt64(m, f, static_cast<uint64_t>(v) << 40)
          : r->SetUInt64(m, f, static_cast<uint64_t>(v) << 40);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      rep ? r->AddDouble(m, f, v + 0.5) : r->SetDouble(m, f, v + 0.5);
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      rep ? r->AddFloat(m, f, v + 0.5f) : r->SetFloat(m, f, v + 0.5f);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = f->enum_type();
      const auto* value = e->value(e->value_count() - 1 - (n % e->value_count()));
      rep ? r->AddEnum(m, f, value) : r->SetEnum(m, f, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      // `bytes` must be binary-safe (IDs carry NUL and high bytes); proto3
      // `string` must be UTF-8.
      std::string s = f->type() == FieldDescriptor::TYPE_BYTES
                          ? f->name() + std::string("\0\xff", 2) + std::to_string(v)
                          : f->name() + "-\xc3\xa9-" + std::to_string(v);
      rep ? r->AddString(m, f, s) : r->SetString(m, f, s);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      if (f->is_map()) {
        // Map entries need distinct keys.
        const FieldDescriptor* key = f->message_type()->map_key();
        const FieldDescriptor* value = f->message_type()->map_value();
        SetOne(sub, key, 0, depth + 1);
        if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          sub->GetReflection()->SetString(sub, key, "key" + std::to_string(n));
        }
        if (value->message_type() == nullptr) SetOne(sub, value, 0, depth + 1);
      } else {
        Fill(sub, depth + 1);
      }
      break;
    }
  }
}

TEST(ProtoRoundTripTest, EveryMessageWithEveryFieldSurvivesTheWire) {
  std::vector<const Descriptor*> messages = AllMessages();
  ASSERT_GE(messages.size(), 60u) << "fewer messages than the wire contract declares";
  google::protobuf::DynamicMessageFactory factory(google::protobuf::DescriptorPool::generated_pool());
  factory.SetDelegateToGeneratedFactory(true);
  for (const Descriptor* d : messages) {
    SCOPED_TRACE(d->full_name());
    std::unique_ptr<Message> original(factory.GetPrototype(d)->New());
    Fill(original.get(), 0);
    std::string wire;
    ASSERT_TRUE(original->SerializeToString(&wire));
    if (d->field_count() > 0) {
      EXPECT_FALSE(wire.empty());
    }
    std::unique_ptr<Message> parsed(factory.GetPrototype(d)->New());
    ASSERT_TRUE(parsed->ParseFromString(wire));
    std::string diff;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&diff);
    EXPECT_TRUE(differ.Compare(*original, *parsed)) << diff;
  }
}

// IDs travel as fixed-length bytes, never as (UTF-8 checked) strings.
TEST(ProtoRoundTripTest, EveryIdFieldIsBytes) {
  int id_fields = 0;
  for (const Descriptor* d : AllMessages()) {
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!f->name().ends_with("_id") && !f->name().ends_with("_ids")) continue;
      ++id_fields;
      EXPECT_EQ(f->type(), FieldDescriptor::TYPE_BYTES) << f->full_name();
    }
  }
  EXPECT_GT(id_fields, 40);
}

TEST(ProtoRoundTripTest, EveryServiceDeclaresItsMethods) {
  ASSERT_EQ(ProtoFiles().size(), 9u);
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  struct Expected {
    const char* service;
    std::vector<const char*> methods;
  };
  std::vector<Expected> expected = {
      {"raycc.proto.GcsService",
       {"RegisterNode", "GetAllNodes", "Heartbeat", "CreateActor", "GetNamedActor", "KillActor",
        "CreatePlacementGroup", "RemovePlacementGroup", "ApplyPlacementGroupOps", "WaitPlacementGroupReady",
        "KvPut", "Subscribe"}},
      {"raycc.proto.RayletService",
       {"RequestWorkerLease", "ReturnWorker", "PrepareBundleResources", "CommitBundleResources",
        "CancelResourceReserve", "PrepareBundlesBatch", "CommitBundlesBatch", "CancelBundlesBatch",
        "PullObject"}},
      {"raycc.proto.JobService", {"StartJob", "ReadJobLog", "StopJob"}},
      {"raycc.proto.CoreWorkerService", {"PushTask", "GetObjectStatus", "CancelTask", "KillActor"}},
  };
  for (const Expected& e : expected) {
    const auto* service = pool->FindServiceByName(e.service);
    ASSERT_NE(service, nullptr) << e.service;
    for (const char* method : e.methods) EXPECT_NE(service->FindMethodByName(method), nullptr) << method;
  }
  // The streaming methods stream.
  EXPECT_TRUE(pool->FindMethodByName("raycc.proto.GcsService.Subscribe")->server_streaming());
  EXPECT_TRUE(pool->FindMethodByName("raycc.proto.RayletService.PullObject")->server_streaming());
}

// A realistic TaskSpec built from the runtime's typed IDs and resource sets:
// what crosses the wire comes back as the same typed values.
TEST(ProtoRoundTripTest, TaskSpecCarriesTypedIdsAndResources) {
  JobId job = JobId::FromInt(9);
  TaskId task = TaskId::Of(job);
  PlacementGroupId pg = PlacementGroupId::Of(job);
  ObjectId dep = *ObjectId::ForReturn(TaskId::Of(job), 1);

  proto::TaskSpec spec;
  spec.set_task_id(task.Binary());
  spec.set_job_id(job.Binary());
  spec.set_parent_task_id(TaskId::ForDriver(job).Binary());
  spec.set_type(proto::NORMAL_TASK);
  spec.mutable_function()->set_name("Gradient");
  spec.add_args()->set_value(std::string("\x92\x01\x02", 3));  // msgpack [1, 2]
  auto* ref = spec.add_args()->mutable_object_ref();
  ref->set_object_id(dep.Binary());
  ref->mutable_owner_address()->set_port(50051);
  spec.set_num_returns(2);
  (*ResourceSet::Create({{"CPU", 1}, {"GPU", 0.5}})).ToProto(spec.mutable_required_resources());
  auto* strategy = spec.mutable_scheduling_strategy()->mutable_placement_group();
  strategy->set_placement_group_id(pg.Binary());
  strategy->set_bundle_index(1);
  spec.set_max_retries(3);

  proto::TaskSpec parsed;
  ASSERT_TRUE(parsed.ParseFromString(spec.SerializeAsString()));
  EXPECT_EQ(*TaskId::FromBinary(parsed.task_id()), task);
  EXPECT_EQ(TaskId::FromBinary(parsed.task_id())->Job(), job);
  EXPECT_EQ(parsed.args(0).kind_case(), proto::TaskArg::kValue);
  EXPECT_EQ(parsed.args(1).kind_case(), proto::TaskArg::kObjectRef);
  EXPECT_EQ(*ObjectId::FromBinary(parsed.args(1).object_ref().object_id()), dep);
  EXPECT_EQ(*ResourceSet::FromProto(parsed.required_resources()),
            *ResourceSet::Create({{"CPU", 1}, {"GPU", 0.5}}));
  EXPECT_EQ(parsed.scheduling_strategy().strategy_case(), proto::SchedulingStrategy::kPlacementGroup);
  EXPECT_EQ(
      *PlacementGroupId::FromBinary(parsed.scheduling_strategy().placement_group().placement_group_id()), pg);
}

// Unknown fields from a newer peer survive a pass through an older one.
TEST(ProtoRoundTripTest, UnknownFieldsArePreserved) {
  proto::ExecPlan plan;
  plan.set_format_version(1);
  plan.set_graph_name("train_step");
  std::string wire = plan.SerializeAsString();
  wire += std::string("\xa8\x1f\x07", 3);  // field 501, varint 7: unknown to this schema
  proto::ExecPlan parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire));
  EXPECT_EQ(parsed.graph_name(), "train_step");
  EXPECT_EQ(parsed.SerializeAsString(), wire);
}

TEST(ProtoRoundTripTest, GarbageIsRejectedNotCrashed) {
  proto::TaskSpec spec;
  EXPECT_FALSE(spec.ParseFromString(std::string("\x0a\xff\xff\xff\xff\x0f", 6)));  // length past end
  EXPECT_FALSE(spec.ParseFromString(std::string("\xff", 1)));
}

}  // namespace
}  // namespace raycc
