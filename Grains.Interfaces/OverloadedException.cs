namespace Sessions;

/// <summary>The silo is shedding load (its password-hashing queue is full, or the caller has already given up); nothing changed, retry later.</summary>
[GenerateSerializer, Alias("Sessions.OverloadedException")]
public sealed class OverloadedException(string message) : Exception(message);
