// Links x8::cpp from a parent project and checks that the header and the loaded libx8 agree.
#include <x8/x8.hpp>

#include <iostream>

int main() {
    if (!x8::header_matches_library()) {
        std::cerr << "x8.h is " X8_VERSION_STRING " but the loaded libx8 is " << x8::version() << '\n';
        return 1;
    }
    std::cout << "linked x8 " << x8::version() << '\n';
    return 0;
}
