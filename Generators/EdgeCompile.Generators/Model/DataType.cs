namespace EdgeCompile.Generators.Model;

/// <summary>A plan <c>dtype</c> token (docs/edgeplan.md): <c>f32 f64 f16 bf16 i64 i32 i16 i8 u64 u32 u16 u8 bool</c>.</summary>
internal enum DataType
{
    F32,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    U16,
    Bool,
    F16,
    BF16,
    U32,
    U64,
}
