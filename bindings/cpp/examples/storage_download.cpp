// Finds the customer's Cloud Storage regions, searches the first for recordings (pageKey/limit paging until
// lastPage), and downloads one through its presigned URL with x8::fetch_url, which sends no Authorization
// header (the URL's query is its own credential).
//
// Credentials come from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator).
#include <x8/pager.hpp>

#include <iostream>
#include <string>

namespace {
// The text of a JSON string field, enough for these replies; a real program would use its JSON library.
std::string field(std::string_view json, const std::string& name) {
    const std::string key = "\"" + name + "\":\"";
    const std::size_t at = json.find(key);
    if (at == std::string_view::npos) return {};
    const std::size_t start = at + key.size();
    return std::string(json.substr(start, json.find('"', start) - start));
}
}  // namespace

int main() {
    try {
        const x8::Client client = x8::Client::from_env();
        // Any valid region answers the list of the customer's regions, e.g. ["us-west","uk"].
        const x8::Response regions = client.get("/storage/us-west/v3/regions");
        const std::string body(regions.body());
        const std::size_t q = body.find('"');
        if (regions.status() != 200 || q == std::string::npos) {
            std::cerr << "regions: HTTP " << regions.status() << " " << body << "\n";
            return 1;
        }
        const std::string region = body.substr(q + 1, body.find('"', q + 1) - q - 1);
        const std::string base = "/storage/" + region + "/v3";
        std::cout << "regions " << body << "; searching " << base << "\n";

        std::string first_id, first_name;
        std::size_t found = 0;
        for (const x8::Response& page :
             x8::pages(client, "GET", base + "/objects?limit=5&filter=type==callrecording", {}, {},
                       x8::PageStyle::BodyOffset)) {
            std::size_t n = 0;
            const std::string items = x8::page_items(page, &n);
            if (first_id.empty() && n > 0) {
                first_id = field(items, "id");
                first_name = field(items, "objectName");
            }
            found += n;
        }
        std::cout << found << " recordings\n";
        if (found == 0) return 0;

        const x8::Response link = client.get(base + "/objects/" + first_id + "/content?presignUrl=true");
        // The reply's form is not documented: a JSON object, or the bare URL as text.
        std::string url = field(link.body(), "presignedUrl");
        if (url.empty()) url = std::string(link.body());
        const x8::Response content = x8::fetch_url(client, "GET", url);
        if (content.status() != 200) {
            std::cerr << "download: HTTP " << content.status() << "\n";
            return 1;
        }
        std::cout << "downloaded " << first_name << ": " << content.body().size() << " bytes without Authorization\n";
        return 0;
    } catch (const x8::Error& e) {
        std::cerr << x8_status_str(e.code()) << ": " << e.what() << "\n";
        return 1;
    }
}
