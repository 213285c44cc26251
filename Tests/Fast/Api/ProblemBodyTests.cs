using Sessions.Api.Http;

namespace Sessions.Tests.Api;

/// <summary>docs/http-api.md#errors on the wire: the catalogue's title and a type linking to the code's row, ours and the framework's answers alike.</summary>
[Layer(Layer.Api)]
[Collection(AccountApiCluster.Name)]
public sealed class ProblemBodyTests(ApiFixture fixture)
{
    private readonly HttpClient _client = fixture.Client();

    [Fact]
    public async Task A_problem_has_its_codes_title_the_occurrence_in_detail_and_a_type_linking_to_the_docs()
    {
        var problem = await (await _client.PostJsonAsync("/auth/register", new { email = "not-an-email", password = "long enough password" }))
            .AssertProblemAsync(400, "invalid_request");

        Assert.Equal("The request is not valid.", problem.GetProperty("title").GetString());
        Assert.Equal("email must be an email address.", problem.GetProperty("detail").GetString());
        Assert.Equal("https://docs.sessions.example/http-api.md#invalid_request", problem.GetProperty("type").GetString());
    }

    [Fact]
    public async Task One_code_answers_with_several_statuses_under_one_title()
    {
        var refresh = await (await _client.PostJsonAsync("/auth/refresh", new { refreshToken = "not-a-token" })).AssertProblemAsync(403, "invalid_grant");
        var link = await (await _client.PostJsonAsync("/auth/email/verify", new { token = "not-a-token" })).AssertProblemAsync(400, "invalid_grant");

        Assert.Equal(refresh.GetProperty("title").GetString(), link.GetProperty("title").GetString());
        Assert.Equal(refresh.GetProperty("type").GetString(), link.GetProperty("type").GetString());
        Assert.NotEqual(refresh.GetProperty("detail").GetString(), link.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_frameworks_own_answers_get_the_catalogues_code_title_and_type_with_the_reason_phrase_as_detail()
    {
        var unknown = await (await _client.GetAsync("/no-such-path")).AssertProblemAsync(404, "not_found");
        var method = await (await _client.DeleteAsync("/.well-known/jwks.json")).AssertProblemAsync(405, "invalid_request");

        Assert.Equal("Not Found", unknown.GetProperty("detail").GetString());
        Assert.Equal(ProblemCatalogue.NotFound.TypeUri(new Uri(ApiFixture.ErrorDocsUrl)), unknown.GetProperty("type").GetString());
        Assert.Equal("Method Not Allowed", method.GetProperty("detail").GetString());
    }
}
