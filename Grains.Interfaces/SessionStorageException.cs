namespace Sessions;

/// <summary>Grain state could not be stored; the operation changed nothing and may be retried.</summary>
[GenerateSerializer, Alias("Sessions.SessionStorageException")]
public sealed class SessionStorageException(string message) : Exception(message);
