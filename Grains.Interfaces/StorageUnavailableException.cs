namespace Sessions;

/// <summary>Grain state (of a session, user, email entry or the key ring) could not be stored or read back; the call changed nothing and may be retried.</summary>
// The alias is the wire name from before the rename, so a rolling upgrade keeps decoding it.
[GenerateSerializer, Alias("Sessions.SessionStorageException")]
public sealed class StorageUnavailableException(string message) : Exception(message);
