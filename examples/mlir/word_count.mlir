// Map-reduce word count: read 4 chunks of a text file, count the words in
// each (tokenize -> count fuses into one task), merge the counts in a tree.
//
//   raycc compile examples/mlir/word_count.mlir --emit=dot | dot -Tsvg > wc.svg

ray.remote_func pure @ReadChunk : (!ray.opaque<"std::string">, i64) -> !ray.opaque<"std::string">
    {cost = #ray.cost<duration_us = 500, result_bytes = 262144>}
ray.remote_func pure @Tokenize : (!ray.opaque<"std::string">) -> !ray.opaque<"std::vector<std::string>">
    {cost = #ray.cost<duration_us = 300>}
ray.remote_func pure @Count : (!ray.opaque<"std::vector<std::string>">) -> !ray.opaque<"std::map<std::string,int64_t>">
    {cost = #ray.cost<duration_us = 200, result_bytes = 16384>}
ray.remote_func pure @Merge : (!ray.opaque<"std::map<std::string,int64_t>">, !ray.opaque<"std::map<std::string,int64_t>">)
    -> !ray.opaque<"std::map<std::string,int64_t>"> {cost = #ray.cost<duration_us = 100, result_bytes = 16384>}

ray.graph @word_count(%path: !ray.opaque<"std::string"> {ray.name = "path"})
    -> (!ray.ref<!ray.opaque<"std::map<std::string,int64_t>">> {ray.name = "counts"}) {
  %c0 = arith.constant 0 : i64
  %c1 = arith.constant 1 : i64
  %c2 = arith.constant 2 : i64
  %c3 = arith.constant 3 : i64
  %t0 = ray.task @ReadChunk(%path, %c0) : (!ray.opaque<"std::string">, i64) -> !ray.ref<!ray.opaque<"std::string">>
  %t1 = ray.task @ReadChunk(%path, %c1) : (!ray.opaque<"std::string">, i64) -> !ray.ref<!ray.opaque<"std::string">>
  %t2 = ray.task @ReadChunk(%path, %c2) : (!ray.opaque<"std::string">, i64) -> !ray.ref<!ray.opaque<"std::string">>
  %t3 = ray.task @ReadChunk(%path, %c3) : (!ray.opaque<"std::string">, i64) -> !ray.ref<!ray.opaque<"std::string">>
  %w0 = ray.task @Tokenize(%t0) : (!ray.ref<!ray.opaque<"std::string">>) -> !ray.ref<!ray.opaque<"std::vector<std::string>">>
  %w1 = ray.task @Tokenize(%t1) : (!ray.ref<!ray.opaque<"std::string">>) -> !ray.ref<!ray.opaque<"std::vector<std::string>">>
  %w2 = ray.task @Tokenize(%t2) : (!ray.ref<!ray.opaque<"std::string">>) -> !ray.ref<!ray.opaque<"std::vector<std::string>">>
  %w3 = ray.task @Tokenize(%t3) : (!ray.ref<!ray.opaque<"std::string">>) -> !ray.ref<!ray.opaque<"std::vector<std::string>">>
  %n0 = ray.task @Count(%w0) : (!ray.ref<!ray.opaque<"std::vector<std::string>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %n1 = ray.task @Count(%w1) : (!ray.ref<!ray.opaque<"std::vector<std::string>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %n2 = ray.task @Count(%w2) : (!ray.ref<!ray.opaque<"std::vector<std::string>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %n3 = ray.task @Count(%w3) : (!ray.ref<!ray.opaque<"std::vector<std::string>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %m01 = ray.task @Merge(%n0, %n1) : (!ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>, !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %m23 = ray.task @Merge(%n2, %n3) : (!ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>, !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  %all = ray.task @Merge(%m01, %m23) : (!ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>, !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>) -> !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
  ray.output %all : !ray.ref<!ray.opaque<"std::map<std::string,int64_t>">>
}
