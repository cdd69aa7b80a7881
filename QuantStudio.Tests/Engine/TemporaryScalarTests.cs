using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using QuantStudio.Core.Engine;
using QuantStudio.Core.Models;
using TorchSharp;

namespace QuantStudio.Tests.Engine;

/// <summary>
/// TorchSharp passes a <see cref="Scalar"/>'s native handle to libtorch without keeping the Scalar alive for the call, and a
/// Scalar has a finalizer that frees it. A Scalar nobody holds (one an implicit conversion made, or one TorchSharp makes
/// inside <c>a + b</c>, <c>add(t)</c>, <c>x * 0.5</c>) can be finalized while libtorch still reads it: "Expected false to
/// be true" from c10::Scalar, or a process that aborts in mul_(Scalar), when another thread's allocations run the GC at
/// that moment (a worker's store and broker clients, the web app). So Core holds every Scalar it passes (<see cref="HeldScalars"/>)
/// and calls no TorchSharp method that makes one of its own. This reads Core's IL and TorchSharp's, rather than trusting a list.
/// </summary>
public sealed class TemporaryScalarTests
{
    [Fact]
    public void Core_PassesNoScalarThatNobodyHolds()
    {
        var torchSharp = MethodsMakingTemporaryScalars(typeof(Scalar).Assembly.Location);
        Assert.Contains("torch+Tensor::add(torch+Tensor)", torchSharp); // a + b: alpha = 1, a Scalar of TorchSharp's own
        Assert.Contains("torch+Tensor::op_Multiply(torch+Tensor,double)", torchSharp);

        var offending = new List<string>();
        using var pe = new PEReader(File.OpenRead(typeof(HeldScalars).Assembly.Location));
        var md = pe.GetMetadataReader();
        foreach (var (method, callee) in Calls(pe, md))
            if (callee == "Scalar::op_Implicit" || torchSharp.Contains(callee))
                offending.Add($"{method} calls {callee}");
        Assert.True(offending.Count == 0, "temporary Scalars in QuantStudio.Core:\n" + string.Join("\n", offending.Distinct()));
    }

    /// <summary>The networks call TorchSharp modules' forward through a virtual call the IL above does not follow: check each module the zoo builds.</summary>
    [Theory]
    [MemberData(nameof(ZooArchitectures))]
    public void EveryModuleOfTheZoo_RunsAForwardThatHoldsItsScalars(string arch)
    {
        var torchSharp = MethodsMakingTemporaryScalars(typeof(Scalar).Assembly.Location);
        var text = arch.StartsWith("char", StringComparison.Ordinal);
        using var model = ModelZoo.Create(arch, text ? InputShape.Text(20) : new InputShape(3, 32, 32, 10), width: 0.5);
        var offending = new SortedSet<string>();
        foreach (var (name, module) in model.named_modules())
        {
            var forward = module.GetType().GetMethods().FirstOrDefault(m => m.Name == "forward" && !m.IsAbstract);
            if (forward?.DeclaringType is not { } owner || owner.Assembly != typeof(Scalar).Assembly)
                continue;
            var signature = $"{owner.Name}::forward({string.Join(",", forward.GetParameters().Select(p => p.ParameterType == typeof(torch.Tensor) ? "torch+Tensor" : p.ParameterType.Name))})";
            if (torchSharp.Contains(signature))
                offending.Add($"{(name.Length == 0 ? arch : name)}: {module.GetType().Name} runs {signature}");
        }
        Assert.True(offending.Count == 0, $"modules of {arch} whose forward passes a Scalar nobody holds:\n" + string.Join("\n", offending));
    }

    public static TheoryData<string> ZooArchitectures() => new(ModelZoo.Names.Append("wrn-10-1"));

    [Fact]
    public void Plus_AddsAsTorchSharpDoes_WithAOneThatOutlivesCollections()
    {
        using var a = torch.tensor(new[] { 1f, 2f, 3f });
        using var b = torch.tensor(new[] { 10f, 20f, 30f });
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var sum = a.Plus(b);
        Assert.Equal(new[] { 11f, 22f, 33f }, sum.data<float>().ToArray());
        using var ints = torch.tensor(new long[] { 1, 2 });
        ints.PlusInPlace(ints);
        Assert.Equal(new long[] { 2, 4 }, ints.data<long>().ToArray());
    }

    /// <summary>
    /// TorchSharp's methods (as "type::name(parameters)") that make a Scalar inside (an implicit conversion, or a call of one of
    /// these), which nothing holds while libtorch reads it.
    /// </summary>
    private static HashSet<string> MethodsMakingTemporaryScalars(string torchSharpPath)
    {
        using var pe = new PEReader(File.OpenRead(torchSharpPath));
        var md = pe.GetMetadataReader();
        var callers = new Dictionary<string, List<string>>();
        var found = new HashSet<string>();
        foreach (var (method, callee) in Calls(pe, md))
        {
            if (callee == "Scalar::op_Implicit")
                found.Add(method);
            if (!callers.TryGetValue(callee, out var list))
                callers[callee] = list = [];
            list.Add(method);
        }
        var work = new Queue<string>(found);
        while (work.TryDequeue(out var m))
            foreach (var caller in callers.GetValueOrDefault(m) ?? [])
                if (found.Add(caller))
                    work.Enqueue(caller);
        return found;
    }

    /// <summary>Every call, callvirt and newobj in the assembly's method bodies: (the calling method, the called method).</summary>
    private static IEnumerable<(string Method, string Callee)> Calls(PEReader pe, MetadataReader md)
    {
        var names = new SignatureNames(md);
        foreach (var th in md.TypeDefinitions)
        {
            foreach (var mh in md.GetTypeDefinition(th).GetMethods())
            {
                var m = md.GetMethodDefinition(mh);
                if (m.RelativeVirtualAddress == 0)
                    continue;
                var method = names.Of(mh);
                var il = pe.GetMethodBody(m.RelativeVirtualAddress).GetILReader();
                while (il.RemainingBytes > 0)
                {
                    var op = il.ReadByte() is var b && b == 0xFE ? 0xFE00 | il.ReadByte() : b;
                    if (op is 0x28 or 0x6F or 0x73)
                        yield return (method, names.Of(MetadataTokens.EntityHandle(il.ReadInt32())));
                    else
                        SkipOperand(ref il, op);
                }
            }
        }
    }

    private static void SkipOperand(ref BlobReader il, int op)
    {
        switch (op)
        {
            case 0x45: // switch
                var n = il.ReadInt32();
                il.Offset += 4 * n;
                break;
            case 0x21 or 0x23: // ldc.i8, ldc.r8
                il.Offset += 8;
                break;
            case >= 0x0E and <= 0x13 or 0x1F or >= 0x2B and <= 0x37 or 0xDE or 0xFE12: // short forms, unaligned.
                il.Offset += 1;
                break;
            case >= 0xFE09 and <= 0xFE0E: // ldarg, ldarga, starg, ldloc, ldloca, stloc
                il.Offset += 2;
                break;
            case 0x20 or 0x22 or >= 0x38 and <= 0x44 or 0xDD or 0x27 or 0x29 or >= 0x70 and <= 0x72 or 0x74 or 0x75 or 0x79
                or >= 0x7B and <= 0x81 or 0x8C or 0x8D or 0x8F or >= 0xA3 and <= 0xA5 or 0xC2 or 0xC6 or 0xD0 or 0xFE06 or 0xFE07
                or 0xFE15 or 0xFE16 or 0xFE1C:
                il.Offset += 4;
                break;
        }
    }

    /// <summary>Methods named "type::name(parameter types)", the same way for a definition and a reference.</summary>
    private sealed class SignatureNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string Of(MethodDefinitionHandle h)
        {
            var m = md.GetMethodDefinition(h);
            var owner = TypeName(m.GetDeclaringType());
            var name = md.GetString(m.Name);
            return owner == "Scalar" && name == "op_Implicit" ? "Scalar::op_Implicit" : $"{owner}::{name}({Parameters(m.DecodeSignature(this, null))})";
        }

        public string Of(EntityHandle h)
        {
            switch (h.Kind)
            {
                case HandleKind.MethodDefinition:
                    return Of((MethodDefinitionHandle)h);
                case HandleKind.MethodSpecification:
                    return Of(md.GetMethodSpecification((MethodSpecificationHandle)h).Method);
                case HandleKind.MemberReference:
                    var r = md.GetMemberReference((MemberReferenceHandle)h);
                    var owner = r.Parent.Kind switch
                    {
                        HandleKind.TypeReference => GetTypeFromReference(md, (TypeReferenceHandle)r.Parent, 0),
                        HandleKind.TypeDefinition => TypeName((TypeDefinitionHandle)r.Parent),
                        _ => "?",
                    };
                    var name = md.GetString(r.Name);
                    if (name == "op_Implicit" && owner == "Scalar")
                        return "Scalar::op_Implicit";
                    return r.GetKind() == MemberReferenceKind.Method
                        ? $"{owner}::{name}({Parameters(r.DecodeMethodSignature(this, null))})"
                        : $"{owner}::{name}";
                default:
                    return "?";
            }
        }

        private static string Parameters(MethodSignature<string> s) => string.Join(",", s.ParameterTypes);

        private string TypeName(TypeDefinitionHandle h)
        {
            var t = md.GetTypeDefinition(h);
            var name = md.GetString(t.Name);
            return t.GetDeclaringType() is { IsNil: false } outer ? $"{TypeName(outer)}+{name}" : name;
        }

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => TypeName(handle);

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var t = reader.GetTypeReference(handle);
            var name = reader.GetString(t.Name);
            return t.ResolutionScope.Kind == HandleKind.TypeReference
                ? $"{GetTypeFromReference(reader, (TypeReferenceHandle)t.ResolutionScope, 0)}+{name}"
                : name;
        }

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode switch
        {
            PrimitiveTypeCode.Double => "double",
            PrimitiveTypeCode.Single => "float",
            PrimitiveTypeCode.Int32 => "int",
            PrimitiveTypeCode.Int64 => "long",
            PrimitiveTypeCode.Boolean => "bool",
            _ => typeCode.ToString(),
        };

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[*]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => $"{genericType}<{string.Join(",", typeArguments)}>";
        public string GetGenericMethodParameter(object? genericContext, int index) => $"!!{index}";
        public string GetGenericTypeParameter(object? genericContext, int index) => $"!{index}";
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
