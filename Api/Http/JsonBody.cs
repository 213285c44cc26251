using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Http;

/// <summary>
/// Reads a JSON request body under our rules, so every bad body gets a problem answer and never a
/// 500: not JSON → 415, malformed or mistyped → 400, larger than the limit → 413, broken framing
/// (a bad chunk, a body cut short, a reset) → 400.
/// </summary>
public static partial class JsonBody
{
    public readonly record struct Read<T>(T? Value, ProblemHttpResult? Problem) where T : class;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <param name="http">The request to read.</param>
    /// <param name="optional">true where an empty body is fine (refresh and logout by cookie).</param>
    public static async Task<Read<T>> ReadAsync<T>(HttpContext http, bool optional = false) where T : class
    {
        var request = http.Request;
        var limit = http.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
            return new(null, TooLarge(limit));

        byte[]? body;
        try
        {
            body = await ReadBytesAsync(request, limit, http.RequestAborted);
        }
        catch (Exception exception) when (IsBrokenFraming(exception, http))
        {
            // The client's fault, not ours: a 400 (which a client that has gone never reads), logged only for debugging.
            LogUnreadable(http, exception);
            return new(null, Problems.Of(exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest,
                Problems.InvalidRequest, "The request body could not be read."));
        }
        if (body is null)
            return new(null, TooLarge(limit));
        if (body.Length == 0)
            return optional ? new(null, null) : new(null, Problems.BadRequest("A JSON body is required."));
        if (!request.HasJsonContentType())
            return new(null, Problems.Of(StatusCodes.Status415UnsupportedMediaType, Problems.InvalidRequest, "The body must be application/json."));
        try
        {
            var value = JsonSerializer.Deserialize<T>(body, Options);
            return value is null ? new(null, Problems.BadRequest("The body must be a JSON object.")) : new(value, null);
        }
        catch (JsonException)
        {
            return new(null, Problems.BadRequest("The body is not valid JSON of the expected shape."));
        }
    }

    /// <summary>The whole body, or null when it is larger than the limit.</summary>
    private static async Task<byte[]?> ReadBytesAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length)
        {
            // The usual case, and the hot path of refresh: one exact-size read, no copies.
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancellationToken);
            return body;
        }
        using var buffer = new MemoryStream();
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                    return null;
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>
    /// Kestrel reports framing errors as BadHttpRequestException (a body shorter than its Content-Length,
    /// over the size limit) or as IOException (a chunk size that overflows, a reset); a client that
    /// has gone also cancels the read.
    /// </summary>
    private static bool IsBrokenFraming(Exception exception, HttpContext http) =>
        exception is BadHttpRequestException or IOException
        || (exception is OperationCanceledException && http.RequestAborted.IsCancellationRequested);

    private static void LogUnreadable(HttpContext http, Exception exception)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonBody));
        LogUnreadable(logger, exception, http.Request.Path);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "The body of a request to {Path} could not be read")]
    private static partial void LogUnreadable(ILogger logger, Exception exception, PathString path);

    private static ProblemHttpResult TooLarge(int limit) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, Problems.InvalidRequest, $"The body is larger than {limit} bytes.");
}
