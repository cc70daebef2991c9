import Foundation
import KernelRunner
import NNGraph
import Testing

@Suite("NumPy .npy / .npz")
struct NumPyTests {
    @Test func npyRoundTrip() throws {
        let t = HostTensor(shape: [2, 3, 4], values: (0..<24).map { Float($0) * 0.5 - 3 })
        let bytes = NumPyArray.encode(t)
        #expect((bytes.count - 24 * 4) % 64 == 0, "data starts on a 64-byte boundary")
        let back = try NumPyArray.decode(bytes)
        #expect(back == t)
    }

    @Test func scalarAndVectorShapes() throws {
        let v = HostTensor(shape: [5], values: [1, 2, 3, 4, 5])
        #expect(try NumPyArray.decode(NumPyArray.encode(v)) == v)
        let s = HostTensor(shape: [], values: [7])
        #expect(try NumPyArray.decode(NumPyArray.encode(s)) == s)
    }

    @Test func rejectsGarbage() {
        #expect(throws: NumPyArray.FormatError.self) { try NumPyArray.decode(Array("hello world, not numpy".utf8)) }
    }

    /// Written by numpy.savez_compressed (deflate, ZIP64 local headers), float32 and float64 arrays.
    @Test func npzFromNumPy() throws {
        let data = try #require(Data(base64Encoded: "UEsDBC0AAAAIAAAAIQAtbyIm//////////8JABQAc21hbGwubnB5AQAQALAAAAAAAAAAZgAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2airqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOgommjoKtQpkAy4GMGiwBxIOQATEDUC8AIgPAPEDIGZwZGAQAGIFIDZwBABQSwMELQAAAAgAAAAhABlrb4H//////////wgAFAByYW1wLm5weQEAEABgLwAAAAAAAFkBAAAAAAAA7dHBK4NxHMfxn3KQHHZwcHB4DuqZeg5P2UFamSU5oB0oStmyZ+0gW8+WFOpJ0pK0kJakJWlJWpKWpCXJ0dFxR0dHR2/+BFefb7/Xt37f6/tgamYyMddmVsyanfYKi749ZNnRTMR2LDuT84t+ankh56e9n/tYaqngcS9kU3mPf3jAdV2n37E2rL9Op/mdYJgV4yFAFU20YEaMCcGCixgSSCKPACWUUUEVNdTRQBOveMM7WvjAJ75g4sa0owNdCKEbPeiFhT6E4cBFBIOIIoZRjGMCCUxjFvNIIo0slpBHEatYR4BNbGEbJexgF3soYx+HOEIFxzjBKao4wzkuUMMlrnCNOm5wizs0cI8HPKKJJzzjJa4e6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6qEe6vFfe3wDUEsDBC0AAAAIAAAAIQCF0ZB3//////////8HABQAZjY0Lm5weQEAEAC4AAAAAAAAAF4AAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgbpNmoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvka5jqaOgq1ChQALgYoCAWDo/YQ+qo9RPQBlP/UfhUYvIKKf7AHAFBLAwQtAAAACAAAACEApDF1s///////////CQAUAG5vaXNlLm5weQEAEAAwBQAAAAAAANgEAAAAAAAAnZH7N9RpHIDdUjOTxiUkhBAOJ21iF/N9P1+yRDNFu9QYNqyZSkm5dKHaOGxuZSgi02Ul1tC9bfdg3s+oZLd2pCW51BZ1Frl02k7TdbPtv7DPb8/z63N4VaQoXKyrs0MnyyVRmvZtqoufvYtAtszFw95FlpKanhq/dX1KaqL0vx4cvyVN+qmnbYzfJv3krl5Llni4edjvtf/fcDef0GMN5I5qI5NeIhabYF3bCM1uj6HpIbrqc98l0+p9sWjY9DVbvWwDMSy+QkcN5NRihjt68A+gieWvtLhNS2Qh6fSsZwZMVQrpdMtNQcbDduAU86ApShed/Pzp4HouvL7wGs7yCmnqht20a+V+4D5PQElMOTWbioc/SueCTXILoy1yB4WOt9qzOQdCGjMwqvweCgsPkrEoLyj55Qlt7ChA1O8VyI3WqWqfXQaHKADFzmAyHXoIatLX0LaZydiXaw6MgznYfJBQZ9kKXFOfRF5X26kNmpbAySPvienNu3hXlMUI7uxApj8AfvfUU4fbJCGn3hteGhyB6zZc9dzpj5T9u54cfWWNVsduw4LMSvTJ+4m4LP0eK7WXYTz2Yuupo5TumRxEfvB9sLrKQskYC/PqSqFbc4kozzii4oEQR/uFmP/NeWifbMamxnlonllL8/VkxCrMDDYNn0Tz7Q8x6Iy8hR9VDSWdAVDSHUN8E2po88IKcs9jN01bFgEjcStx6Q4OufR4WHXMige1M2XkhpcjO96NYF6O4H9AT/2eOUdHNda4PW4WlA2aqN9GVsBYWT4EKuvQNScTFVYi5K39jDln4QSlxvqso2cYnZ0VBP3OdiToyyHgf2SgweM8LH9RgOqBIJr4VTguqFGDpcQVnvor6KOGETrt/Ib4lHuhmf9WVGzSklenbdkU7h76hWgO7hotx9ohJYqkhuDXKYayCAuBLERJmqSTTMF7I7JYfB0zDz2jy1c/ZU7sXYFVUy/pg4sRaKZW0lXSaBC5d9EQuS3tXx0ODXxnkH/og5xbM9Q2Egm8mNTS+gkO6UiPAu6PhZDKyYOwngUkmdMJ00NyKo81pitqhEAXGWGYkMvGZOTAKQGPLb3b3+rpdIPWzHEn3kYCaIi3wKCN14hDQ0FrQ2cndNe54Q+jeUB6nNBuIgM9e71Rf10l/vnAnEh0csEt0JW0d9uBxXgXjLKFpLYvhAz2FNPhAQ2y+wLhUvdj7DR3gfsnk1rj/OSw8HahClRr0ID9mZzezEcU+tIr+90ZWQeHJkQGUFvrSAxtCqCHB2apldYO9C9xFWoSS0BbXAM+LW/RRDqXFEl1ace7PNwy/9PHhAl6gR3GvoJ8qrxjSbPf9DO8quMYdNwWngULYJeyDK8pXfHpgVpV1mNjjPZ6BPvXR5K26GzMaQvF59LNKu6UKTtR6EMXF+iRzEp9mCdxUom1JuwM01lolUtgINSJNBvaAaOowNyIYUh68kbVMcVjqqNTcLXGD6e3G0Ng0R4Q3WOhEI8BjvrALdcxQemiKEjQWsLGdxrVyCNfaCmthZ1e20hu3FW665/PYSDsJRw5vpb2zFapbjfyaG+RAsLdxtEivIVYKyphyDccuyoo6HM5cOLgbJzJjSBM0g1c/psxfrg/Buu6EnFy/gTMMa5X+dXsg1iNF5OSzleHVJniv1BLAQItAy0AAAAIAAAAIQAtbyImZgAAALAAAAAJAAAAAAAAAAAAAACAAQAAAABzbWFsbC5ucHlQSwECLQMtAAAACAAAACEAGWtvgVkBAABgLwAACAAAAAAAAAAAAAAAgAGhAAAAcmFtcC5ucHlQSwECLQMtAAAACAAAACEAhdGQd14AAAC4AAAABwAAAAAAAAAAAAAAgAE0AgAAZjY0Lm5weVBLAQItAy0AAAAIAAAAIQCkMXWz2AQAADAFAAAJAAAAAAAAAAAAAACAAcsCAABub2lzZS5ucHlQSwUGAAAAAAQABADZAAAA3gcAAAAA"))
        let arrays = try NumPyArray.decodeArchive([UInt8](data))
        #expect(Set(arrays.keys) == ["small", "ramp", "f64", "noise"])
        #expect(arrays["small"] == HostTensor(shape: [3, 4], values: (0..<12).map(Float.init)))
        let ramp = try #require(arrays["ramp"])
        #expect(ramp.shape == [3000])
        #expect(ramp.values == (0..<3000).map { Float($0 % 100) })
        let f64 = try #require(arrays["f64"])
        #expect(f64.values.count == 7 && abs(f64.values[6] - 1) < 1e-7 && abs(f64.values[1] - 1.0 / 6) < 1e-7)
        let noise = try #require(arrays["noise"])
        #expect(noise.values[0] == 2.040919065475464 && noise.values[299] == -0.5726513266563416)
        #expect(abs(noise.values.reduce(0, +) - 14.864213943481445) < 1e-3)
    }
}
