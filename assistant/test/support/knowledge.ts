/** A small bilingual knowledge base shared by the service tests. */
export const KNOWLEDGE = {
  "hr/leave.md": "# 年假制度\n\n员工入职满一年后享有5天带薪年假，满十年享有10天。\n\n年假需要提前三个工作日在OA系统中申请。\n",
  "it/vpn.md": "# VPN guide\n\nTo connect to the VPN, install the client and sign in with your employee account.\n\nThe VPN server address is vpn.example.com.\n",
  "facilities.txt": "The cafeteria opens at 11:30 and closes at 13:30. Parking is free for employees.\n",
};
