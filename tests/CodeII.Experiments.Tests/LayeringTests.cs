using System.Reflection;
using System.Reflection.Emit;

namespace CodeII.Experiments.Tests;

/// <summary>
/// The library's namespaces stand on floors, and a floor uses only itself and the floors below it, so no two
/// namespaces of different floors depend on each other. Dependencies are read from the compiled library, not its
/// source: every type a type derives from, declares in a signature, or names in its methods' IL.
/// </summary>
public class LayeringTests
{
    /// <summary>Lowest first. "" is the ground floor of shared plumbing (progress, JSON conventions, atomic files,
    /// parallel loops). Sub-namespaces (Data.Wfdb, Features.Learned) belong to their folder's floor.</summary>
    static readonly string[] Floors =
        ["", "Labels", "Data", "Preprocessing", "Evaluation", "Features", "Sweep", "Models", "Runs", "Reports", "Experiments", "Cluster"];

    const string Root = "CodeII.Experiments";

    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    static string NamespaceOf(Type type)
    {
        while (type.IsNested) type = type.DeclaringType!;
        return type.Namespace ?? "";
    }

    /// <summary>Every (user, used) pair of namespaces in the library, with one example of each.</summary>
    static readonly Lazy<Dictionary<(string From, string To), string>> NamespaceDependencies = new(() =>
    {
        var assembly = typeof(JsonConventions).Assembly;
        var found = new Dictionary<(string, string), string>();
        foreach (var type in assembly.GetTypes())
            foreach (var used in UsedBy(type).SelectMany(Expand).Where(t => t.Assembly == assembly))
                if (NamespaceOf(type) is var from && NamespaceOf(used) is var to && from != to)
                    found.TryAdd((from, to), $"{type.FullName} uses {used.FullName}");
        return found;
    });

    /// <summary>Every (user floor, used floor) pair in the library, with one example of each.</summary>
    static Dictionary<(string From, string To), string> Dependencies()
    {
        var found = new Dictionary<(string, string), string>();
        foreach (var ((from, to), example) in NamespaceDependencies.Value)
            if (Floor(from) is { } f && Floor(to) is { } t && f != t) found.TryAdd((f, t), example);
        return found;
    }

    static string? Floor(string ns) => ns == Root ? "" : ns.StartsWith(Root + ".", StringComparison.Ordinal) ? ns[(Root.Length + 1)..].Split('.')[0] : null;

    static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType) { foreach (var t in Expand(type.GetElementType()!)) yield return t; yield break; }
        if (type.IsGenericParameter) yield break;
        yield return type;
        if (type.IsGenericType && !type.IsGenericTypeDefinition)
            foreach (var argument in type.GetGenericArguments())
                foreach (var t in Expand(argument)) yield return t;
    }

    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    static IEnumerable<Type> UsedBy(Type type)
    {
        if (type.BaseType is { } baseType) yield return baseType;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var f in type.GetFields(Declared)) yield return f.FieldType;
        foreach (var p in type.GetProperties(Declared)) yield return p.PropertyType;
        var methods = type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared));
        foreach (var method in methods)
        {
            if (method is MethodInfo m) yield return m.ReturnType;
            foreach (var p in method.GetParameters()) yield return p.ParameterType;
            foreach (var t in FromIl(method)) yield return t;
        }
    }

    /// <summary>The types the method's body names: the operands of its calls, field accesses, casts and allocations.</summary>
    static IEnumerable<Type> FromIl(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        var typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var code = OpCodesByValue[value];
            switch (code.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: i += 1; break;
                case OperandType.InlineVar: i += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: i += 8; break;
                case OperandType.InlineSwitch: i += 4 + 4 * BitConverter.ToInt32(il, i); break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                {
                    var token = BitConverter.ToInt32(il, i);
                    i += 4;
                    MemberInfo? member = null;
                    try { member = method.Module.ResolveMember(token, typeArguments, methodArguments); }
                    catch (ArgumentException) { }
                    switch (member)
                    {
                        case Type t: yield return t; break;
                        case FieldInfo f: yield return f.DeclaringType!; yield return f.FieldType; break;
                        case MethodInfo m:
                            yield return m.DeclaringType!;
                            yield return m.ReturnType;
                            foreach (var a in m.IsGenericMethod ? m.GetGenericArguments() : []) yield return a;
                            break;
                        case ConstructorInfo c: yield return c.DeclaringType!; break;
                    }
                    break;
                }
                default: i += 4; break;
            }
        }
    }

    [Fact]
    public void No_namespace_reaches_up_a_floor_so_no_two_namespaces_depend_on_each_other()
    {
        var dependencies = Dependencies();
        // The reading sees real dependencies, in signatures and in method bodies alike.
        Assert.Contains(("Experiments", "Reports"), dependencies.Keys);
        Assert.Contains(("Sweep", "Evaluation"), dependencies.Keys);
        Assert.Contains(("Models", "Sweep"), dependencies.Keys);
        // A namespace outside the floors would be neither above nor below anything: every one must be placed.
        Assert.All(dependencies.Keys, d => { Assert.Contains(d.From, Floors); Assert.Contains(d.To, Floors); });

        var upward = dependencies.Where(d => Array.IndexOf(Floors, d.Key.To) > Array.IndexOf(Floors, d.Key.From))
            .Select(d => $"{d.Key.From} → {d.Key.To}: {d.Value}").ToArray();
        Assert.True(upward.Length == 0, "reaching up a floor:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void No_two_namespaces_depend_on_each_other_also_within_a_floor()
    {
        var dependencies = NamespaceDependencies.Value;
        Assert.Contains(("CodeII.Experiments.Features.Learned", "CodeII.Experiments.Features"), dependencies.Keys);
        var mutual = dependencies.Keys.Where(d => string.CompareOrdinal(d.From, d.To) < 0 && dependencies.ContainsKey((d.To, d.From)))
            .Select(d => $"{d.From} ⇄ {d.To}: {dependencies[d]}; {dependencies[(d.To, d.From)]}").ToArray();
        Assert.True(mutual.Length == 0, "namespaces that depend on each other:\n" + string.Join("\n", mutual));
    }
}
