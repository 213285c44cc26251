using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Sessions.Api.Http;

/// <summary>
/// Reads a JSON request body under our rules, so every bad body gets a problem answer and never a
/// 500: not JSON → 415, malformed or mistyped → 400, larger than the limit → 413.
/// </summary>
public static class JsonBody
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

        var body = await ReadBytesAsync(request, limit, http.RequestAborted);
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

    private static ProblemHttpResult TooLarge(int limit) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, Problems.InvalidRequest, $"The body is larger than {limit} bytes.");
}
