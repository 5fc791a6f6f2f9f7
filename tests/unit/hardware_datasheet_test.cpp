// The 2026 hardware profiles (issue 20) against their datasheets. Every expected value is re-derived here
// by hand from the vendors' published figures: sparse headlines halved, rack totals divided by 72, peaks
// scaled by clock and SM count, driver totals in MiB converted to bytes. None is the loader's output pasted
// back.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "infersim/hardware/hardware_loader.hpp"

namespace infersim {
namespace {

constexpr double kTera = 1e12;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = kMiB * 1024.0;

// |actual / expected - 1| <= rel
void expect_rel(double actual, double expected, double rel) {
  EXPECT_NEAR(actual / expected, 1.0, rel) << "actual " << actual << ", expected " << expected;
}

// Arithmetic intensity (FLOP per byte) above which a kernel is compute-bound at peak.
double ridge_point(const hardware::HardwareSpec& hw, DType t) {
  return hw.peak_flops_per_s(t) / hw.memory.bandwidth_bytes_per_s;
}

const std::vector<std::string> kNewHardware = {"b300", "gb300", "h200-nvl", "mi350x",
                                               "h20",  "rtx-pro-6000", "rtx-5090", "tpu-v7",
                                               "rtx-4070-laptop"};

TEST(HardwareDatasheet, NewProfilesCarryTheirEvidence) {
  for (const auto& name : kNewHardware) {
    SCOPED_TRACE(name);
    const auto hw = hardware::load_hardware(name);
    EXPECT_FALSE(hw.source.empty());
    EXPECT_FALSE(hw.notes.empty());
    // Calibrated (rtx-pro-6000) or not: the efficiencies say where they come from, and none is left at a flattering 1.
    EXPECT_FALSE(hw.efficiency.source.empty());
    EXPECT_LT(hw.efficiency.compute, 1.0);
    EXPECT_LT(hw.efficiency.memory, 1.0);
    EXPECT_LT(hw.efficiency.moe_gemm, 1.0);
    if (hw.price.usd_per_chip_hour) {
      EXPECT_FALSE(hw.price.as_of.empty());
      EXPECT_NE(hw.price.basis.find("on-demand"), std::string::npos);
      EXPECT_NE(hw.price.basis.find("per GPU-hour"), std::string::npos);
    } else {
      EXPECT_EQ(hw.price.basis, "no price found");
    }
  }
}

TEST(HardwareDatasheet, B300FromTheDgxB300Headlines) {
  const auto hw = hardware::load_hardware("b300");
  // DGX B300: 72 PFLOPS FP8 with sparsity for 8 GPUs -> 72e15 / 8 / 2 dense per GPU.
  expect_rel(hw.peak_flops_per_s(DType::fp8), 72e15 / 8 / 2, 1e-9);
  // DGX B300: 108 PFLOPS dense FP4 for 8 GPUs = 13.5 PF; the HGX datasheet's 14 PF is within 4%.
  expect_rel(hw.peak_flops_per_s(DType::fp4), 108e15 / 8, 0.04);
  // 275,040 MiB reported by nvidia-smi.
  expect_rel(hw.memory.capacity_bytes, 275040 * kMiB, 1e-4);
  // HGX B300: 62 TB/s for 8 GPUs.
  expect_rel(hw.memory.bandwidth_bytes_per_s, 62e12 / 8, 1e-9);
  // Ridge point in bf16: 2250 TFLOPS / 7.75 TB/s = 290.3 FLOP/byte.
  EXPECT_NEAR(ridge_point(hw, DType::bf16), 2250.0 / 7.75, 0.1);
  // Blackwell Ultra cut INT8: 307 TOPS sparse / 2, under a twentieth of the FP8 rate.
  expect_rel(hw.peak_flops_per_s(DType::int8), 307e12 / 2, 1e-9);
  EXPECT_LT(hw.peak_flops_per_s(DType::int8), hw.peak_flops_per_s(DType::fp8) / 20);
}

TEST(HardwareDatasheet, Gb300IsOneSeventySecondOfTheNvl72Rack) {
  const auto hw = hardware::load_hardware("gb300");
  EXPECT_EQ(hw.interconnect.scale_up_domain_chips, 72);
  // GB300 NVL72 rack, dense: 1080 PF FP4, 360 PF FP8, 576 TB/s HBM, 130 TB/s NVLink (both directions).
  expect_rel(hw.peak_flops_per_s(DType::fp4), 1080e15 / 72, 1e-9);
  expect_rel(hw.peak_flops_per_s(DType::fp8), 360e15 / 72, 1e-9);
  expect_rel(hw.memory.bandwidth_bytes_per_s, 576e12 / 72, 1e-9);
  ASSERT_TRUE(hw.interconnect.scale_up_bandwidth_bytes_per_s);
  expect_rel(*hw.interconnect.scale_up_bandwidth_bytes_per_s, 130e12 / 72 / 2, 0.01);
  // 284,208 MiB reported by nvidia-smi.
  expect_rel(hw.memory.capacity_bytes, 284208 * kMiB, 1e-4);
  // Ridge point in fp4: 15,000 TFLOPS / 8 TB/s = 1875 FLOP/byte.
  EXPECT_NEAR(ridge_point(hw, DType::fp4), 15000.0 / 8.0, 0.1);
}

TEST(HardwareDatasheet, H200NvlIsTheH200AtSixHundredWatts) {
  const auto nvl = hardware::load_hardware("h200-nvl");
  const auto sxm = hardware::load_hardware("h200-sxm");
  // NVIDIA's H200 NVL column, with sparsity: BF16 1,671, FP8 3,341 TFLOPS.
  expect_rel(nvl.peak_flops_per_s(DType::bf16), 1671 * kTera / 2, 1e-9);
  expect_rel(nvl.peak_flops_per_s(DType::fp8), 3341 * kTera / 2, 1e-9);
  // Same GH100 die and HBM3e stacks: same capacity and bandwidth, lower clock.
  expect_rel(nvl.memory.capacity_bytes, 143771 * kMiB, 1e-4);  // 143,771 MiB, as on the SXM part
  expect_rel(nvl.memory.capacity_bytes, sxm.memory.capacity_bytes, 1e-4);
  EXPECT_DOUBLE_EQ(nvl.memory.bandwidth_bytes_per_s, sxm.memory.bandwidth_bytes_per_s);
  EXPECT_LT(nvl.peak_flops_per_s(DType::bf16), sxm.peak_flops_per_s(DType::bf16));
  // NVLink bridge, 900 GB/s per GPU both ways, up to 4 GPUs, no switch: ring all-reduce.
  ASSERT_TRUE(nvl.interconnect.scale_up_bandwidth_bytes_per_s);
  expect_rel(*nvl.interconnect.scale_up_bandwidth_bytes_per_s, 900e9 / 2, 1e-9);
  EXPECT_EQ(nvl.interconnect.scale_up_domain_chips, 4);
  EXPECT_EQ(nvl.interconnect.all_reduce, hardware::AllReduceAlgorithm::ring);
  ASSERT_TRUE(nvl.power.tdp_w);
  EXPECT_EQ(*nvl.power.tdp_w, 600);
}

TEST(HardwareDatasheet, Mi350xIsTheMi355xAtTwoPointTwoGigahertz) {
  const auto hw = hardware::load_hardware("mi350x");
  // MI355X exact bf16 peak 2516.6 TFLOPS at 2.4 GHz; the MI350X peaks at 2.2 GHz.
  expect_rel(hw.peak_flops_per_s(DType::bf16), 2516.6 * kTera * 2.2 / 2.4, 5e-4);
  // The MI350 series 8-GPU platform: FP16 18.5 PF, FP8 37 PF, FP4 74 PF (dense), per GPU within 0.5%.
  expect_rel(hw.peak_flops_per_s(DType::bf16), 18.5e15 / 8, 0.005);
  expect_rel(hw.peak_flops_per_s(DType::fp8), 37e15 / 8, 0.005);
  expect_rel(hw.peak_flops_per_s(DType::fp4), 74e15 / 8, 0.005);
  // ROCm lists 288 GiB of VRAM.
  expect_rel(hw.memory.capacity_bytes, 288 * kGiB, 1e-4);
  EXPECT_FALSE(hw.supports(DType::tf32));  // CDNA4 has no TF32 matrix rate
}

TEST(HardwareDatasheet, H20IsComputeStarvedAndBandwidthRich) {
  const auto h20 = hardware::load_hardware("h20");
  const auto h100 = hardware::load_hardware("h100-sxm");
  // 148 TFLOPS bf16 over 4.0 TB/s: 37 FLOP/byte, against 989 / 3.35 = 295 on the H100 SXM.
  EXPECT_NEAR(ridge_point(h20, DType::bf16), 148.0 / 4.0, 1e-6);
  EXPECT_NEAR(ridge_point(h100, DType::bf16), 989.0 / 3.35, 0.01);
  EXPECT_GT(ridge_point(h100, DType::bf16) / ridge_point(h20, DType::bf16), 7.0);
  // The GH200 96GB's HBM3 and its nvidia-smi total, 97,871 MiB: a little under 96 GiB.
  expect_rel(h20.memory.capacity_bytes, 97871 * kMiB, 1e-4);
  EXPECT_LT(h20.memory.capacity_bytes, 96 * kGiB);
  EXPECT_EQ(h20.interconnect.all_reduce, hardware::AllReduceAlgorithm::in_switch);
}

TEST(HardwareDatasheet, RtxBlackwellRatesFromSmCountAndClock) {
  // RTX PRO 6000 Blackwell Server Edition: 188 SMs x 1024 bf16 FLOP/clock (FP32 accumulate, full rate) at
  // the 2430 MHz NVIDIA measured; FP8 2x, FP4 4x.
  const auto pro = hardware::load_hardware("rtx-pro-6000");
  const double pro_bf16 = 188 * 1024 * 2.43e9;
  expect_rel(pro.peak_flops_per_s(DType::bf16), pro_bf16, 5e-4);
  expect_rel(pro.peak_flops_per_s(DType::fp8), 2 * pro_bf16, 5e-4);
  expect_rel(pro.peak_flops_per_s(DType::fp4), 4 * pro_bf16, 5e-4);
  expect_rel(pro.memory.capacity_bytes, 97887 * kMiB, 1e-4);
  // 512-bit GDDR7 at 28 Gb/s per pin.
  expect_rel(pro.memory.bandwidth_bytes_per_s, 512.0 / 8 * 28e9, 1e-9);

  // GeForce RTX 5090: 170 SMs x 512 bf16 FLOP/clock (FP32 accumulate at half rate) at 2407 MHz boost;
  // FP4 dense = the headline 3352 AI TOPS (sparse) / 2.
  const auto rtx = hardware::load_hardware("rtx-5090");
  expect_rel(rtx.peak_flops_per_s(DType::bf16), 170 * 512 * 2.407e9, 5e-4);
  expect_rel(rtx.peak_flops_per_s(DType::fp4), 3352 * kTera / 2, 1e-9);
  expect_rel(rtx.memory.capacity_bytes, 32607 * kMiB, 1e-4);
  expect_rel(rtx.memory.bandwidth_bytes_per_s, pro.memory.bandwidth_bytes_per_s, 1e-9);  // same 512-bit GDDR7
  // Same die, professional part not halved: the PRO card's bf16 rate is more than twice the GeForce one's.
  EXPECT_GT(pro.peak_flops_per_s(DType::bf16), 2 * rtx.peak_flops_per_s(DType::bf16));
}

TEST(HardwareDatasheet, Rtx4070LaptopRatesFromSmCountAndClock) {
  // 144 tensor cores = 36 Ada SMs x 512 bf16 FLOP/clock (FP32 accumulate at half rate, as the RTX 4090: 165.2
  // TFLOPS = 128 SMs x 512 x 2.52 GHz) at the 115 W part's 2175 MHz boost.
  const auto hw = hardware::load_hardware("rtx-4070-laptop");
  const double bf16 = 144 / 4 * 512 * 2.175e9;
  expect_rel(hw.peak_flops_per_s(DType::bf16), bf16, 1e-3);
  // The 60 W part's published 29.86 TFLOPS bf16 tensor at 1620 MHz, scaled by clock, is the same figure.
  expect_rel(hw.peak_flops_per_s(DType::bf16), 29.86e12 * 2175 / 1620, 1e-3);
  expect_rel(hw.peak_flops_per_s(DType::fp8), 2 * bf16, 1e-3);
  // 128-bit GDDR6 at 16 Gb/s per pin; 8 GiB.
  expect_rel(hw.memory.bandwidth_bytes_per_s, 128.0 / 8 * 16e9, 1e-9);
  expect_rel(hw.memory.capacity_bytes, 8 * kGiB, 1e-3);
  // Ridge point in bf16: 40.1 TFLOPS / 256 GB/s = 157 FLOP/byte; a decode step of a few dozen sequences is far
  // below it, so the memory-bound rows on this chip do not depend on the (uncertain) TGP and clock.
  EXPECT_NEAR(ridge_point(hw, DType::bf16), 40.1e12 / 256e9, 0.5);
}

TEST(HardwareDatasheet, A100FortyGigabyteFromBusWidthAndClock) {
  const auto a40 = hardware::load_hardware("a100-40gb");
  const auto a80 = hardware::load_hardware("a100-sxm-80gb");
  // HBM2 on a 5120-bit bus at deviceQuery's 1215 MHz memory clock, two transfers a clock: 1,555.2 GB/s, the
  // datasheet's 1,555 GB/s (the 80 GB part's HBM2e: 2,039).
  expect_rel(a40.memory.bandwidth_bytes_per_s, 2 * 1215e6 * 5120 / 8, 1e-3);
  EXPECT_EQ(a40.memory.type, "HBM2");
  // deviceQuery's total global memory, 42,405,855,232 bytes: 40,441 MiB of NVIDIA's binary 40 GiB.
  expect_rel(a40.memory.capacity_bytes, 42405855232.0, 1e-5);
  expect_rel(a40.memory.capacity_bytes, 40441 * kMiB, 1e-4);
  EXPECT_LT(a40.memory.capacity_bytes, 40 * kGiB);
  // The same GA100 at the same boost: 432 tensor cores x 256 dense bf16 FMA a clock x 2 x 1.41 GHz = 311.9 TFLOPS,
  // the 80 GB part's peaks.
  expect_rel(a40.peak_flops_per_s(DType::bf16), 432 * 256 * 2 * 1.41e9, 1e-3);
  for (DType t : {DType::fp32, DType::tf32, DType::bf16, DType::fp16, DType::int8}) {
    EXPECT_EQ(a40.peak_flops_per_s(t), a80.peak_flops_per_s(t));
  }
  EXPECT_FALSE(a40.supports(DType::fp8));
  // The bf16 ridge point moves from 153 to 201 FLOP/byte: small-batch decode stays memory-bound, 24% slower.
  EXPECT_NEAR(ridge_point(a40, DType::bf16), 312e12 / 1555e9, 0.5);
  expect_rel(a80.memory.bandwidth_bytes_per_s / a40.memory.bandwidth_bytes_per_s, 2039.0 / 1555, 1e-3);
  // A Capacity Block reservation of AWS's p4d.24xlarge (8 SXM4 GPUs, $14.75/hr), the one price read.
  ASSERT_TRUE(a40.price.usd_per_chip_hour.has_value());
  expect_rel(*a40.price.usd_per_chip_hour, 14.75 / 8, 1e-3);
  EXPECT_EQ(a40.price.kind(), hardware::PriceKind::reserved);
}

TEST(HardwareDatasheet, TpuV7FromGooglesTable) {
  const auto hw = hardware::load_hardware("tpu-v7");
  expect_rel(hw.peak_flops_per_s(DType::bf16), 2307 * kTera, 1e-9);
  expect_rel(hw.peak_flops_per_s(DType::fp8), 2 * 2307 * kTera, 1e-9);
  expect_rel(hw.memory.capacity_bytes, 192 * kGiB, 1e-4);
  expect_rel(hw.memory.bandwidth_bytes_per_s, 7380e9, 1e-9);
  // ICI: 1200 GB/s per chip, both directions.
  ASSERT_TRUE(hw.interconnect.scale_up_bandwidth_bytes_per_s);
  expect_rel(*hw.interconnect.scale_up_bandwidth_bytes_per_s, 1200e9 / 2, 1e-9);
  EXPECT_EQ(hw.interconnect.scale_up_domain_chips, 9216);
  // Ridge point in bf16: 2307 TFLOPS / 7.38 TB/s = 312.6 FLOP/byte.
  EXPECT_NEAR(ridge_point(hw, DType::bf16), 2307.0 / 7.38, 0.1);
}

}  // namespace
}  // namespace infersim
