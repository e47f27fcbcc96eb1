import JudgePanelCore
import JudgePanelProviders

/// A counting semaphore for async code: bounds a judge's in-flight calls to its `concurrency`.
package actor AsyncSemaphore {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    package init(_ count: Int) {
        available = count
    }

    package func wait() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    package func signal() {
        if head < waiters.count {
            let w = waiters[head]
            head += 1
            if head > 1024, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            w.resume()
        } else {
            available += 1
        }
    }
}
