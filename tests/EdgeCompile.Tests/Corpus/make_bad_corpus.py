#!/usr/bin/python3
"""Regenerates tests/EdgeCompile.Tests/Corpus/bad/: malformed or hostile model files, one per problem,
and bad/expected.txt (file -> the EDGE code(s) the front end must report). Tests never run Python;
this script only documents how the committed files were made. Run from this folder: /usr/bin/python3 make_bad_corpus.py"""
import os, random
import onnx
from onnx import helper, TensorProto

OUT = "bad"
os.makedirs(OUT, exist_ok=True)
expected = []

def save(name, data, codes):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected.append(f"{name} {codes}")

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def model(nodes, inputs=None, outputs=None, inits=None, opset=17):
    inputs = inputs if inputs is not None else [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])]
    outputs = outputs if outputs is not None else [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])]
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits or [])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="corpus")
    m.ir_version = 8
    return m

def raw_tensor(name, dtype, dims, raw):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.raw_data = raw
    return t

w = raw_tensor("w", TensorProto.FLOAT, [4], bytes(16))
valid = model([helper.make_node("Add", ["x", "w"], ["t"]), helper.make_node("Relu", ["t"], ["y"])], inits=[w])
vb = valid.SerializeToString()

save("empty.onnx", b"", "EDGE1005")
save("random_bytes.onnx", random.Random(1).randbytes(512), "EDGE1002|EDGE1005")
save("truncated.onnx", vb[: len(vb) // 2], "EDGE1002")
save("wrong_wire_type.onnx", b"\x08\x08" + b"\x38\x05", "EDGE1002")            # graph (field 7) sent as a varint
save("length_past_end.onnx", b"\x08\x08" + b"\x3a" + varint(1000) + b"abc", "EDGE1002")
save("varint_too_long.onnx", b"\x08" + b"\xff" * 11, "EDGE1002")
save("not_a_model.onnx", w.SerializeToString(), "EDGE1002|EDGE1005")

# Subgraphs nested far deeper than any exporter produces.
leaf = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "leaf", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
inner = leaf
for i in range(30):
    node = helper.make_node("If", ["c"], ["y"], then_branch=inner, else_branch=leaf)
    inner = helper.make_graph([node], f"g{i+1}", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
deep = model(inner.node, inputs=[helper.make_tensor_value_info("c", TensorProto.BOOL, [])])
save("deep_nesting.onnx", deep.SerializeToString(), "EDGE1003")

save("tensor_size_mismatch.onnx", model(valid.graph.node, inits=[raw_tensor("w", TensorProto.FLOAT, [4], bytes(12))]).SerializeToString(), "EDGE1101")
short_typed = TensorProto(); short_typed.name = "w"; short_typed.data_type = TensorProto.FLOAT; short_typed.dims.extend([4]); short_typed.float_data.extend([1.0, 2.0])
save("typed_size_mismatch.onnx", model(valid.graph.node, inits=[short_typed]).SerializeToString(), "EDGE1101")
save("negative_dim.onnx", model(valid.graph.node, inits=[raw_tensor("w", TensorProto.FLOAT, [-4], b"")]).SerializeToString(), "EDGE1103")
save("dims_overflow.onnx", model(valid.graph.node, inits=[raw_tensor("w", TensorProto.FLOAT, [1 << 40, 1 << 40], b"")]).SerializeToString(), "EDGE1103")
save("dims_product_overflow.onnx", model(valid.graph.node, inits=[raw_tensor("w", TensorProto.FLOAT, [1 << 20, 1 << 20, 1 << 20], b"")]).SerializeToString(), "EDGE1103")
save("unknown_dtype.onnx", model(valid.graph.node, inits=[raw_tensor("w", 99, [4], bytes(16))]).SerializeToString(), "EDGE1102")

save("cycle.onnx", model([helper.make_node("Relu", ["y"], ["a"]), helper.make_node("Add", ["x", "a"], ["y"])]).SerializeToString(), "EDGE1203")
save("missing_input.onnx", model([helper.make_node("Add", ["x", "nowhere"], ["y"])]).SerializeToString(), "EDGE1202")
save("duplicate_output.onnx", model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])]).SerializeToString(), "EDGE1201")
save("missing_graph_output.onnx", model([helper.make_node("Relu", ["x"], ["z"])]).SerializeToString(), "EDGE1204")
save("unsupported_op.onnx", model([helper.make_node("FooBar", ["x"], ["y"])]).SerializeToString(), "EDGE1301")
save("unknown_attribute.onnx", model([helper.make_node("Relu", ["x"], ["y"], alpha2=0.5)]).SerializeToString(), "EDGE1302")
save("wrong_arity.onnx", model([helper.make_node("Add", ["x"], ["y"])]).SerializeToString(), "EDGE1303")
save("shape_mismatch.onnx", model([helper.make_node("Add", ["x", "b"], ["y"])],
     inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]), helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 3])]).SerializeToString(), "EDGE1304")
save("declared_type_conflict.onnx", model([helper.make_node("Relu", ["x"], ["y"])],
     outputs=[helper.make_tensor_value_info("y", TensorProto.INT32, [1, 4])]).SerializeToString(), "EDGE1304")

def external(location):
    t = TensorProto()
    t.name = "w"; t.data_type = TensorProto.FLOAT; t.dims.extend([4])
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add(); e.key = "location"; e.value = location
    return model(valid.graph.node, inits=[t]).SerializeToString()

save("external_absolute.onnx", external("/etc/hostname"), "EDGE1104")
save("external_dotdot.onnx", external("../make_bad_corpus.py"), "EDGE1104")
save("external_missing.onnx", external("no_such_file.bin"), "EDGE1105")
save("external_too_short.onnx", external("short.bin"), "EDGE1105")
with open(os.path.join(OUT, "short.bin"), "wb") as f:
    f.write(bytes(8))
save("external_link_out.onnx", external("link_out.bin"), "EDGE1104")
link = os.path.join(OUT, "link_out.bin")
if os.path.lexists(link):
    os.remove(link)
os.symlink("../make_bad_corpus.py", link)   # a link inside the folder that leads out of it

with open(os.path.join(OUT, "expected.txt"), "w") as f:
    f.write("# file  expected EDGE code(s), '|' separated; generated by ../make_bad_corpus.py\n")
    f.write("\n".join(expected) + "\n")
print(f"{len(expected)} files")
