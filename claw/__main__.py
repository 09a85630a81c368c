from claw.cli.main import main

main(prog_name="claw")
