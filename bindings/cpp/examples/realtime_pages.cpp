// Lists every Contact Center queue of the realtime analytics API page by page (X-Page, X-Total-Pages and
// Link rel="next"), with x8::pages as an input range.
//
// Credentials come from X8_CLIENT_ID / X8_CLIENT_SECRET; X8_BASE_URL points it elsewhere (the emulator).
// A European tenant's path starts with /eu (/au, /ca likewise).
#include <x8/pager.hpp>

#include <iostream>

int main() {
    try {
        const x8::Client client = x8::Client::from_env();
        std::size_t pages = 0, queues = 0;
        x8::Pages listing = x8::pages(client, "GET", "/analytics/cc/v5/realtime-metrics/queues?size=3");
        for (const x8::Response& page : listing) {
            if (page.status() != 200) {
                std::cerr << "HTTP " << page.status() << ": " << page.body() << "\n";
                return 1;
            }
            std::size_t n = 0;
            const std::string items = x8::page_items(page, &n);  // the page's queues as one JSON array
            std::cout << "page " << page.header("X-Page").value_or("?") << " of "
                      << page.header("X-Total-Pages").value_or("?") << ": " << n << " queues " << items.substr(0, 60)
                      << "...\n";
            queues += n;
            ++pages;
        }
        std::cout << queues << " queues in " << pages << " pages\n";
        return 0;
    } catch (const x8::Error& e) {
        std::cerr << x8_status_str(e.code()) << ": " << e.what() << "\n";
        return 1;
    }
}
