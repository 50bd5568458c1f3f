#include "tools/server/job.h"

#include <utility>

namespace tessera_server {

void RequestChannel::push(std::string text) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    pieces_.push_back(std::move(text));
  }
  cv_.notify_all();
}

void RequestChannel::finish(Outcome outcome) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = true;
    outcome_ = std::move(outcome);
  }
  cv_.notify_all();
}

bool RequestChannel::wait(std::chrono::milliseconds timeout, std::vector<std::string>* pieces,
                          Outcome* outcome) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, timeout, [&] { return done_ || !pieces_.empty(); });
  while (!pieces_.empty()) {
    pieces->push_back(std::move(pieces_.front()));
    pieces_.pop_front();
  }
  if (!done_) return false;
  *outcome = outcome_;
  return true;
}

}  // namespace tessera_server
