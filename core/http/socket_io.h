#pragma once

// Internal to core/http (include only from its .cc files and gathering_client.h): the socket
// waits and writes that the server's connections and the clients' streams share.

#include <openssl/ssl.h>

#include <sys/types.h>
#include <chrono>
#include <cstddef>
#include <string>

namespace hansa::http::internal {

using Clock = std::chrono::steady_clock;

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or `deadline` passes.
[[nodiscard]] bool wait_for(int fd, short events, Clock::time_point deadline);

// Sends `size` bytes on `fd`, through `ssl` when it is not null, waiting up to `stall_timeout`
// each time the socket cannot take more, and never past `deadline`. False when the connection
// failed or stalled.
[[nodiscard]] bool send_all(int fd, SSL* ssl, const char* data, std::size_t size,
                            std::chrono::milliseconds stall_timeout,
                            Clock::time_point deadline = Clock::time_point::max());

// The time `bytes` earn at a minimum rate of `min_rate` bytes per second (> 0), in whole
// milliseconds rounded down; no intermediate value overflows. The body pace of the server's
// connections (reading) and of WriteGatherer (sending) both count this way.
[[nodiscard]] std::chrono::milliseconds earned_time(std::size_t bytes, std::size_t min_rate);

// The end of a wait of at most `timeout` that starts now, but no later than `deadline`.
[[nodiscard]] Clock::time_point wait_end(std::chrono::milliseconds timeout,
                                         Clock::time_point deadline);

// The local or remote address of `fd` as a numeric host and a port; leaves them unchanged when
// the socket has none.
void socket_address(int fd, bool local, std::string& ip, int& port);

// The bytes a stream writes to one connection, gathered and sent together: httplib writes a
// message's header block and body separately, and each would leave as its own TCP segment (and
// TLS record). The stream calls flush() before it waits for input and when a message is complete.
// Threading: one owner.
class WriteGatherer final {
 public:
  // Most bytes gathered before they are sent.
  static constexpr std::size_t kMaxBytes = 64 * 1024;

  WriteGatherer(int fd, SSL* ssl, std::chrono::milliseconds stall_timeout)
      : fd_(fd), ssl_(ssl), stall_timeout_(stall_timeout) {}

  // As httplib::Stream::write: `size` when taken, -1 when the connection failed.
  ssize_t write(const char* data, std::size_t size);
  // Sends what write() gathered; false when the connection failed, now or before.
  bool flush();
  // Waits until the socket takes more bytes, as long as a send could wait (the stall timeout,
  // the deadline, the pace); counts as time the message was blocked.
  bool wait_writable();
  // No send waits past `deadline` (a whole call's), however the peer paces its reading.
  void set_deadline(Clock::time_point deadline) { deadline_ = deadline; }
  // Bounds the time one message's sends may spend blocked on a peer that reads slowly: `grace`
  // plus a second for every `min_rate` bytes of the message sent (0: no bound beyond the stall
  // timeout). Time between sends (a handler at work) does not count.
  void set_pace(std::chrono::milliseconds grace, std::size_t min_rate) {
    pace_grace_ = grace;
    pace_rate_ = min_rate;
  }
  // The next send starts a new message for set_pace.
  void begin_message() {
    message_sent_ = 0;
    message_blocked_ = Clock::duration::zero();
  }
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  bool send(const char* data, std::size_t size);
  // The latest time the next send may wait until under set_pace, or max() without a pace.
  Clock::time_point paced_end() const;

  int fd_;
  SSL* ssl_;
  std::chrono::milliseconds stall_timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::chrono::milliseconds pace_grace_{0};
  std::size_t pace_rate_ = 0;
  std::size_t message_sent_ = 0;
  Clock::duration message_blocked_ = Clock::duration::zero();
  std::string pending_;
  bool failed_ = false;
};

}  // namespace hansa::http::internal
