#if NETSTANDARD2_0
namespace System.Diagnostics.CodeAnalysis
{
    // netstandard2.0 lacks the nullable-analysis attributes; the compiler recognizes them by name.
    // Mono's mscorlib and newer targets have them.

    /// <summary>Null is allowed as an input even if the type does not say so.</summary>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Parameter | AttributeTargets.Property, Inherited = false)]
    internal sealed class AllowNullAttribute : Attribute
    {
    }

    /// <summary>The output may be null even if the type does not say so.</summary>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.ReturnValue, Inherited = false)]
    internal sealed class MaybeNullAttribute : Attribute
    {
    }
}
#endif
