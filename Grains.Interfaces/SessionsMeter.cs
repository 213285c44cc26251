namespace Sessions;

/// <summary>The meter of the service's own instruments, the same name in the Api and the silos.</summary>
public static class SessionsMeter
{
    public const string Name = "Sessions";
}
